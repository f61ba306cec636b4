using ControlPlane.Migrations.Lint;
using Xunit;

namespace ControlPlane.Tests.Migrations;

/// <summary>
/// Every statement rule: a statement that must trigger it, the safe rewrite that must not, and the same trigger
/// hidden in a line comment, a block comment, a string literal and a dollar-quoted body, which must not either.
/// </summary>
public sealed class LintRuleTests
{
    private const string Tx = "";
    private const string NoTx = MigrationSets.NoTransaction;

    // Rule, file header of the positive case, positive SQL, file header of the negative case, negative SQL.
    public static TheoryData<string, string, string, string, string> Cases => new()
    {
        { "CP001", Tx, "CREATE INDEX orders_a_idx ON orders (a);", NoTx, "CREATE INDEX CONCURRENTLY orders_a_idx ON orders (a);" },
        { "CP002", Tx, "DROP INDEX orders_a_idx;", NoTx, "DROP INDEX CONCURRENTLY orders_a_idx;" },
        { "CP003", Tx, "CREATE INDEX CONCURRENTLY orders_a_idx ON orders (a);", NoTx, "CREATE INDEX CONCURRENTLY orders_a_idx ON orders (a);" },
        { "CP004", Tx, "ALTER TABLE orders ADD COLUMN region text NOT NULL;", Tx, "ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';" },
        { "CP005", Tx, "ALTER TABLE orders ALTER COLUMN region SET NOT NULL;", Tx,
            "ALTER TABLE orders ADD CONSTRAINT region_nn CHECK (region IS NOT NULL) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT region_nn;\nALTER TABLE orders ALTER COLUMN region SET NOT NULL;" },
        { "CP006", Tx, "ALTER TABLE orders ADD CONSTRAINT orders_c_fk FOREIGN KEY (c) REFERENCES customers (id);", Tx,
            "ALTER TABLE orders ADD CONSTRAINT orders_c_fk FOREIGN KEY (c) REFERENCES customers (id) NOT VALID;" },
        { "CP007", Tx, "ALTER TABLE orders ADD CONSTRAINT amount_positive CHECK (amount > 0);", Tx,
            "ALTER TABLE orders ADD CONSTRAINT amount_positive CHECK (amount > 0) NOT VALID;" },
        { "CP008", Tx, "ALTER TABLE orders ALTER COLUMN amount TYPE bigint;", Tx, "ALTER TABLE orders ADD COLUMN amount_new bigint;" },
        { "CP009", Tx, "ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();", Tx, "ALTER TABLE orders ADD COLUMN seen timestamptz DEFAULT now();" },
        { "CP010", Tx, "ALTER TABLE orders RENAME COLUMN amount TO total;", Tx, "ALTER TABLE orders ADD COLUMN total numeric;" },
        { "CP011", Tx, "ALTER TABLE orders RENAME TO purchases;", Tx, "ALTER TABLE orders RENAME TO purchases;\nCREATE VIEW orders AS SELECT * FROM purchases;" },
        { "CP012", Tx, "ALTER TABLE orders DROP COLUMN legacy;", "-- controlplane:contract\n", "ALTER TABLE orders DROP COLUMN legacy;" },
        { "CP013", Tx, "DROP TABLE orders_archive;", "-- controlplane:contract\n", "DROP TABLE orders_archive;" },
        { "CP014", Tx, "DROP SCHEMA reporting CASCADE;", "-- controlplane:contract\n", "DROP SCHEMA reporting CASCADE;" },
        { "CP015", Tx, "ALTER TABLE orders ADD COLUMN note text;", Tx, "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN note text;" },
        { "CP016", Tx, "CREATE TABLE orders (id bigserial);", Tx, "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY);" },
        { "CP017", Tx, "CREATE TABLE customers (email varchar(120), code char(2));", Tx, "CREATE TABLE customers (email text CHECK (length(email) <= 120), name varchar);" },
        { "CP018", Tx, "CREATE TABLE events (at timestamp);", Tx, "CREATE TABLE events (at timestamptz);" },
        { "CP019", Tx, "CREATE TABLE orders (id integer PRIMARY KEY);", Tx, "CREATE TABLE orders (id bigint PRIMARY KEY);" },
        { "CP020", Tx, "ALTER TABLE orders DISABLE ROW LEVEL SECURITY;", Tx, "ALTER TABLE orders ENABLE ROW LEVEL SECURITY;" },
        { "CP021", Tx, "DROP POLICY orders_tenant ON orders;", Tx, "ALTER POLICY orders_tenant ON orders USING (true);" },
        { "CP022", Tx, "VACUUM FULL orders;", NoTx, "VACUUM orders;" },
        { "CP023", Tx, "CLUSTER orders USING orders_at_idx;", Tx, "ANALYZE orders;" },
        { "CP024", Tx, "REINDEX INDEX orders_a_idx;", NoTx, "REINDEX INDEX CONCURRENTLY orders_a_idx;" },
        { "CP025", Tx, "TRUNCATE orders;", Tx, "DELETE FROM orders WHERE id < 1000;" },
        { "CP026", Tx, "ALTER TABLE orders ADD CONSTRAINT orders_ref_key UNIQUE (ref);", Tx,
            "ALTER TABLE orders ADD CONSTRAINT orders_ref_key UNIQUE USING INDEX orders_ref_key;" },
        { "CP027", Tx, "ALTER TABLE orders ADD COLUMN a text;\nALTER TABLE orders ADD COLUMN b text;", Tx, "ALTER TABLE orders ADD COLUMN a text, ADD COLUMN b text;" },
        { "CP028", Tx, "BEGIN;\nALTER TABLE orders ADD COLUMN a text;\nCOMMIT;", Tx, "ALTER TABLE orders ADD COLUMN a text;" },
        { "CP029", Tx, "REFRESH MATERIALIZED VIEW daily_totals;", Tx, "REFRESH MATERIALIZED VIEW CONCURRENTLY daily_totals;" },
        { "CP030", Tx, "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;", Tx, "SELECT 1;" },
        { "CP032", Tx, "ALTER TABLE orders ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;", Tx, "ALTER TABLE orders ADD COLUMN n bigint;" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_rule_fires_on_its_trigger(string rule, string header, string sql, string safeHeader, string safeSql)
    {
        _ = (safeHeader, safeSql);
        var finding = MigrationSets.LintOne(header + sql).Findings.FirstOrDefault(f => f.RuleId == rule);

        Assert.NotNull(finding);
        Assert.Equal("V1__change.sql", finding.FileName);
        Assert.NotEmpty(finding.SafeRewrite);
        Assert.NotEmpty(finding.Explanation);
        Assert.True(finding.Position.Line >= 1);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_rule_is_quiet_on_the_safe_rewrite(string rule, string header, string sql, string safeHeader, string safeSql)
    {
        _ = (header, sql);
        Assert.DoesNotContain(rule, MigrationSets.LintOne(safeHeader + safeSql).RuleIds());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_rule_ignores_its_trigger_inside_comments_strings_and_function_bodies(string rule, string header, string sql, string safeHeader, string safeSql)
    {
        _ = (safeHeader, safeSql);
        string[] traps =
        [
            string.Join('\n', sql.Split('\n').Select(line => "-- " + line)),
            "/* " + sql + " */ SELECT 1;",
            "SELECT '" + sql.Replace("'", "''", StringComparison.Ordinal) + "';",
            "CREATE FUNCTION trap() RETURNS void LANGUAGE sql AS $trap$ " + sql + " $trap$;",
            "DO $$ BEGIN EXECUTE $x$" + sql + "$x$; END $$;",
        ];
        foreach (var trap in traps)
        {
            Assert.DoesNotContain(rule, MigrationSets.LintOne(header + trap).RuleIds());
        }
    }

    [Fact]
    public void Statement_rules_cover_at_least_twenty_of_the_issue_list_and_every_rule_has_a_case()
    {
        var tested = Cases.Select(c => (string)c[0]).ToHashSet();
        var statementRules = MigrationLinter.Rules.Where(r => string.CompareOrdinal(r.Id, "CP090") < 0 && r.Id != "CP031").Select(r => r.Id);

        Assert.True(tested.Count >= 20);
        Assert.Empty(statementRules.Except(tested));
    }

    [Fact]
    public void Rule_ids_and_slugs_are_unique()
    {
        Assert.Equal(MigrationLinter.Rules.Count, MigrationLinter.Rules.Select(r => r.Id).Distinct().Count());
        Assert.Equal(MigrationLinter.Rules.Count, MigrationLinter.Rules.Select(r => r.Slug).Distinct().Count());
    }
}
