using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Lint.Rules;

/// <summary>Constraints added to existing tables: validation and index builds under heavy locks.</summary>
internal static class ConstraintRules
{
    public static IEnumerable<Rule> All =>
    [
        new(new LintRule("CP006", "foreign-key-without-not-valid", Severity.Error,
                "FOREIGN KEY added without NOT VALID",
                "Adding a validated foreign key scans the table while holding SHARE ROW EXCLUSIVE on both it and the referenced table: writes to both wait for the whole scan.",
                "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);",
                "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;  -- SHARE UPDATE EXCLUSIVE: writes go on"),
            ForeignKey),
        new(new LintRule("CP007", "check-without-not-valid", Severity.Error,
                "CHECK constraint added without NOT VALID",
                "Adding a validated CHECK scans the whole table under ACCESS EXCLUSIVE: reads and writes wait for the scan.",
                "ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0);",
                "ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount > 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;"),
            Check),
        new(new LintRule("CP026", "unique-constraint-without-index", Severity.Error,
                "PRIMARY KEY / UNIQUE / EXCLUDE added without a prebuilt index",
                "Adding the constraint builds its index under ACCESS EXCLUSIVE: the table is unreadable and unwritable for the whole build. A unique index built CONCURRENTLY beforehand can be attached instantly (exclusion constraints cannot; use a trigger or accept the lock on a small table).",
                "ALTER TABLE orders ADD CONSTRAINT orders_ref_key UNIQUE (ref);",
                "-- V7 (no-transaction): CREATE UNIQUE INDEX CONCURRENTLY orders_ref_key ON orders (ref);\n-- V8: ALTER TABLE orders ADD CONSTRAINT orders_ref_key UNIQUE USING INDEX orders_ref_key;"),
            Unique),
    ];

    private static IEnumerable<RuleHit> ForeignKey(StatementContext ctx)
    {
        foreach (var (table, constraint) in Statements.AddedConstraints(ctx))
        {
            if (constraint.Str("contype") == "CONSTR_FOREIGN" && !constraint.Bool("skip_validation"))
            {
                var name = Name(constraint, $"{table.Name}_fk");
                yield return new RuleHit(
                    $"foreign key {name} on {table} is validated at once, blocking writes to {table} and {constraint.Field("pktable").Table()}",
                    $"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY (…) REFERENCES {constraint.Field("pktable").Table()} (…) NOT VALID;\nALTER TABLE {table} VALIDATE CONSTRAINT {name};");
            }
        }
    }

    private static IEnumerable<RuleHit> Check(StatementContext ctx)
    {
        foreach (var (table, constraint) in Statements.AddedConstraints(ctx))
        {
            if (constraint.Str("contype") == "CONSTR_CHECK" && !constraint.Bool("skip_validation"))
            {
                var name = Name(constraint, $"{table.Name}_check");
                yield return new RuleHit($"CHECK {name} on {table} scans {table} under ACCESS EXCLUSIVE",
                    $"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK (…) NOT VALID;\nALTER TABLE {table} VALIDATE CONSTRAINT {name};");
            }
        }
    }

    private static IEnumerable<RuleHit> Unique(StatementContext ctx)
    {
        foreach (var (table, constraint) in Statements.AddedConstraints(ctx))
        {
            var kind = constraint.Str("contype") switch
            {
                "CONSTR_PRIMARY" => "PRIMARY KEY",
                "CONSTR_UNIQUE" => "UNIQUE",
                "CONSTR_EXCLUSION" => "EXCLUDE",
                _ => null,
            };
            if (kind is not null && constraint.Str("indexname").Length == 0)
            {
                var name = Name(constraint, $"{table.Name}_key");
                var columns = string.Join(", ", constraint.Names("keys"));
                yield return new RuleHit($"{kind} {name} on {table} builds its index under ACCESS EXCLUSIVE",
                    kind == "EXCLUDE"
                        ? "An exclusion constraint cannot use a prebuilt index: enforce it with a trigger, or add it while the table is small and suppress with the reason."
                        : $"CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} ({columns}); in a no-transaction file, then ALTER TABLE {table} ADD CONSTRAINT {name} {kind} USING INDEX {name};");
            }
        }
    }

    private static string Name(System.Text.Json.JsonElement constraint, string fallback) =>
        constraint.Str("conname") is { Length: > 0 } name ? name : fallback;
}
