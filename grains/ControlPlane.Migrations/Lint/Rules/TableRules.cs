using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Lint.Rules;

/// <summary>Whole-table operations and tenant isolation.</summary>
internal static class TableRules
{
    public static IEnumerable<Rule> All =>
    [
        new(new LintRule("CP020", "disable-row-level-security", Severity.Error,
                "Disabling row-level security",
                "On a tenant table, row-level security is what keeps one tenant's rows from another's sessions; turning it off (or NO FORCE for the owner) removes that for every query until it is back.",
                "ALTER TABLE orders DISABLE ROW LEVEL SECURITY;",
                "Keep RLS enabled; change the policy instead: CREATE POLICY … / ALTER POLICY orders_tenant ON orders USING (…);"),
            DisableRls),
        new(new LintRule("CP021", "drop-policy", Severity.Error,
                "DROP POLICY",
                "Dropping a policy on a tenant table changes who sees which rows at once; with RLS enabled and no policy left, everyone sees nothing, and with a permissive policy left, possibly too much.",
                "DROP POLICY orders_tenant ON orders;",
                "CREATE POLICY orders_tenant_v2 ON orders USING (…); then drop the old one in a later change, or ALTER POLICY orders_tenant ON orders USING (…);"),
            DropPolicy),
        new(new LintRule("CP022", "vacuum-full", Severity.Error,
                "VACUUM FULL",
                "VACUUM FULL rewrites the table under ACCESS EXCLUSIVE: nothing reads or writes it until the copy is done.",
                "VACUUM FULL orders;",
                "Plain VACUUM (no lock against reads/writes); to reclaim space online use pg_repack or a rebuild by expand/contract."),
            VacuumFull),
        new(new LintRule("CP023", "cluster", Severity.Error,
                "CLUSTER",
                "CLUSTER rewrites the table under ACCESS EXCLUSIVE.",
                "CLUSTER orders USING orders_created_idx;",
                "Leave physical order to time (or pg_repack --order-by); it is not a schema change."),
            Cluster),
        new(new LintRule("CP025", "truncate", Severity.Error,
                "TRUNCATE",
                "TRUNCATE takes ACCESS EXCLUSIVE and removes every row at once, on every tenant the change reaches.",
                "TRUNCATE order_staging;",
                "DELETE FROM order_staging WHERE … in batches (ROW EXCLUSIVE), or suppress with the reason when the table is a disposable staging table."),
            Truncate),
        new(new LintRule("CP029", "refresh-materialized-view-not-concurrently", Severity.Warning,
                "REFRESH MATERIALIZED VIEW without CONCURRENTLY",
                "A plain refresh takes ACCESS EXCLUSIVE on the view: readers wait for the whole query.",
                "REFRESH MATERIALIZED VIEW daily_totals;",
                "REFRESH MATERIALIZED VIEW CONCURRENTLY daily_totals;  -- needs a unique index on the view"),
            RefreshMatView),
        new(new LintRule("CP030", "lock-table", Severity.Warning,
                "Explicit LOCK TABLE",
                "An explicit lock is held until the file's transaction ends, behind and in front of every other statement of the file.",
                "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;",
                "Drop the explicit lock; each statement takes what it needs. If ordering matters, keep the file to that one statement."),
            LockTable),
    ];

    private static IEnumerable<RuleHit> DisableRls(StatementContext ctx)
    {
        foreach (var (table, _) in Statements.AlterCommands(ctx).Where(a => a.Cmd.Str("subtype") is "AT_DisableRowSecurity" or "AT_NoForceRowSecurity"))
        {
            yield return new RuleHit($"row-level security is turned off on {table}",
                $"Keep RLS on {table}; adjust its policies with CREATE/ALTER POLICY … ON {table}.");
        }
    }

    private static IEnumerable<RuleHit> DropPolicy(StatementContext ctx)
    {
        var node = ctx.Statement.Node;
        if (ctx.Statement.Kind == "DropStmt" && node.Str("removeType") == "OBJECT_POLICY")
        {
            foreach (var obj in node.Items("objects"))
            {
                var parts = obj.Field("List").Names("items");
                var policy = parts.Count > 0 ? parts[^1] : "?";
                var table = string.Join('.', parts.Take(Math.Max(0, parts.Count - 1)));
                yield return new RuleHit($"policy {policy} on {table} is dropped",
                    $"ALTER POLICY {policy} ON {table} USING (…); or create the replacement policy first and drop {policy} in a later change.");
            }
        }
    }

    private static IEnumerable<RuleHit> VacuumFull(StatementContext ctx)
    {
        var node = ctx.Statement.Node;
        if (ctx.Statement.Kind == "VacuumStmt" && node.Nodes("options", "DefElem").Any(d => d.Str("defname") == "full" && !Off(d.Field("arg"))))
        {
            var tables = string.Join(", ", node.Nodes("rels", "VacuumRelation").Select(r => r.Field("relation").Table()));
            yield return new RuleHit($"VACUUM FULL {(tables.Length == 0 ? "(every table)" : tables)} rewrites under ACCESS EXCLUSIVE",
                $"VACUUM {tables};");
        }
    }

    // VACUUM (FULL false) / (FULL off) / (FULL 0): the option spelled out and turned off.
    private static bool Off(System.Text.Json.JsonElement arg) =>
        (arg.Is("Boolean", out var b) && !b.Bool("boolval"))
        || (arg.Is("String", out var s) && s.Str("sval") is "false" or "off")
        || (arg.Is("Integer", out var i) && i.Int("ival") == 0);

    private static IEnumerable<RuleHit> Cluster(StatementContext ctx)
    {
        if (ctx.Statement.Kind == "ClusterStmt")
        {
            yield return new RuleHit($"CLUSTER {ctx.Statement.Node.Field("relation").Table()} rewrites under ACCESS EXCLUSIVE",
                "Remove it from the migration; reorder online with pg_repack if it matters.");
        }
    }

    private static IEnumerable<RuleHit> Truncate(StatementContext ctx)
    {
        if (ctx.Statement.Kind == "TruncateStmt")
        {
            var tables = ctx.Statement.Node.Nodes("relations", "RangeVar").Select(r => r.Table()).Where(ctx.Existing).ToArray();
            if (tables.Length > 0)
            {
                yield return new RuleHit($"TRUNCATE {string.Join(", ", tables)} removes every row under ACCESS EXCLUSIVE",
                    $"DELETE FROM {tables[0]} WHERE … in batches.");
            }
        }
    }

    private static IEnumerable<RuleHit> RefreshMatView(StatementContext ctx)
    {
        if (ctx.Statement.Kind == "RefreshMatViewStmt" && !ctx.Statement.Node.Bool("concurrent"))
        {
            var view = ctx.Statement.Node.Field("relation").Table();
            yield return new RuleHit($"REFRESH MATERIALIZED VIEW {view} blocks its readers", $"REFRESH MATERIALIZED VIEW CONCURRENTLY {view};");
        }
    }

    private static IEnumerable<RuleHit> LockTable(StatementContext ctx)
    {
        if (ctx.Statement.Kind == "LockStmt")
        {
            yield return new RuleHit($"LOCK TABLE {string.Join(", ", ctx.Statement.Node.Nodes("relations", "RangeVar").Select(r => r.Table()))} holds its lock until the file commits",
                "Remove the LOCK TABLE.");
        }
    }
}
