using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Lint.Rules;

/// <summary>Column changes that rewrite, scan or break running code.</summary>
internal static class ColumnRules
{
    public static IEnumerable<Rule> All =>
    [
        new(new LintRule("CP004", "add-column-not-null-without-default", Severity.Error,
                "ADD COLUMN … NOT NULL without a DEFAULT",
                "Existing rows have no value for the new column, so the statement fails on any table with rows (and on an empty one it still breaks every INSERT from code that does not know the column).",
                "ALTER TABLE orders ADD COLUMN region text NOT NULL;",
                "ALTER TABLE orders ADD COLUMN region text NOT NULL DEFAULT 'eu';  -- a constant default is catalog-only"),
            AddColumnNotNull),
        new(new LintRule("CP005", "set-not-null-without-validated-check", Severity.Error,
                "SET NOT NULL without a validated CHECK first",
                "SET NOT NULL scans the whole table under ACCESS EXCLUSIVE. PostgreSQL skips the scan when a validated CHECK (column IS NOT NULL) already proves it.",
                "ALTER TABLE orders ALTER COLUMN region SET NOT NULL;",
                "ALTER TABLE orders ADD CONSTRAINT orders_region_nn CHECK (region IS NOT NULL) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_region_nn;  -- SHARE UPDATE EXCLUSIVE: writes go on\nALTER TABLE orders ALTER COLUMN region SET NOT NULL;     -- no scan now\nALTER TABLE orders DROP CONSTRAINT orders_region_nn;"),
            SetNotNull),
        new(new LintRule("CP008", "alter-column-type", Severity.Error,
                "ALTER COLUMN … TYPE",
                "Changing a column's type rewrites the table and its indexes under ACCESS EXCLUSIVE (only a few binary-coercible changes, such as varchar(n) to text, skip the rewrite), and code reading the old type may break.",
                "ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2);",
                "Expand/contract: ADD COLUMN amount_new numeric(12,2); backfill in batches; switch the code; then drop the old column in a later change headed '-- controlplane:contract'. For a binary-coercible change, suppress with the reason."),
            AlterType),
        new(new LintRule("CP009", "volatile-default", Severity.Error,
                "ADD COLUMN with a volatile DEFAULT",
                "A default calling a volatile function (random(), gen_random_uuid(), clock_timestamp(), nextval(), …) is computed per row, so ADD COLUMN rewrites the table under ACCESS EXCLUSIVE. A constant or stable default (now()) is stored once in the catalog.",
                "ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();",
                "ALTER TABLE orders ADD COLUMN token uuid;\nALTER TABLE orders ALTER COLUMN token SET DEFAULT gen_random_uuid();  -- new rows only\n-- backfill existing rows in batches: UPDATE orders SET token = gen_random_uuid() WHERE id BETWEEN … AND … AND token IS NULL;"),
            VolatileDefault),
        new(new LintRule("CP032", "add-column-rewrites", Severity.Error,
                "ADD COLUMN that fills every row (identity, serial, stored generated)",
                "An identity, serial or GENERATED … STORED column is computed for every existing row: the table is rewritten under ACCESS EXCLUSIVE.",
                "ALTER TABLE orders ADD COLUMN total numeric GENERATED ALWAYS AS (amount * qty) STORED;",
                "Add a plain nullable column, fill it in batches (or from a trigger for new rows), and compute it in a view or in code until backfilled."),
            AddColumnRewrites),
        new(new LintRule("CP010", "rename-column", Severity.Error,
                "RENAME COLUMN",
                "Code running during and after the rollout still uses the old name: its queries fail from the moment the rename commits on each target.",
                "ALTER TABLE orders RENAME COLUMN amount TO total;",
                "Expand/contract: add the new column, write both (trigger or code), backfill, switch readers, then drop the old column in a later change headed '-- controlplane:contract'."),
            RenameColumn),
        new(new LintRule("CP011", "rename-table", Severity.Error,
                "RENAME of a table",
                "Running code still names the old table: every query on it fails from the moment the rename commits.",
                "ALTER TABLE orders RENAME TO purchases;",
                "ALTER TABLE orders RENAME TO purchases; CREATE VIEW orders AS SELECT * FROM purchases;  -- in one file, so old code keeps working; drop the view once no code uses it"),
            RenameTable),
    ];

    private static IEnumerable<RuleHit> AddColumnNotNull(StatementContext ctx)
    {
        foreach (var (table, cmd) in Statements.AlterExisting(ctx, "AT_AddColumn"))
        {
            if (cmd.Field("def").Is("ColumnDef", out var column) && ColumnFacts.NotNull(column)
                && ColumnFacts.Default(column) is null && !ColumnFacts.IsIdentity(column) && !ColumnFacts.IsSerial(column)
                && !ColumnFacts.IsStoredGenerated(column))
            {
                var name = column.Str("colname");
                yield return new RuleHit($"column {name} is added to {table} as NOT NULL with no DEFAULT: existing rows have no value",
                    $"ALTER TABLE {table} ADD COLUMN {name} … NOT NULL DEFAULT <constant>; or add it nullable, backfill, then add the NOT NULL via a validated CHECK (see CP005).");
            }
        }
    }

    private static IEnumerable<RuleHit> SetNotNull(StatementContext ctx)
    {
        foreach (var (table, cmd) in Statements.AlterExisting(ctx, "AT_SetNotNull"))
        {
            var column = cmd.Str("name");
            if (!ctx.HasValidatedNotNullCheck(table, column))
            {
                yield return new RuleHit($"SET NOT NULL on {table}.{column} scans {table} under ACCESS EXCLUSIVE",
                    $"ALTER TABLE {table} ADD CONSTRAINT {table.Name}_{column}_not_null CHECK ({column} IS NOT NULL) NOT VALID;\n" +
                    $"ALTER TABLE {table} VALIDATE CONSTRAINT {table.Name}_{column}_not_null;\nALTER TABLE {table} ALTER COLUMN {column} SET NOT NULL;");
            }
        }
    }

    private static IEnumerable<RuleHit> AlterType(StatementContext ctx)
    {
        foreach (var (table, cmd) in Statements.AlterExisting(ctx, "AT_AlterColumnType"))
        {
            var column = cmd.Str("name");
            var type = cmd.Field("def").Field("ColumnDef").Field("typeName").TypeName();
            yield return new RuleHit($"ALTER COLUMN {column} TYPE {type} on {table} may rewrite {table} under ACCESS EXCLUSIVE",
                $"Add {column}_new {type}, backfill in batches, switch code, drop {column} in a later '-- controlplane:contract' change; or suppress with the reason when the change is binary-coercible.");
        }
    }

    private static IEnumerable<RuleHit> VolatileDefault(StatementContext ctx)
    {
        foreach (var (table, cmd) in Statements.AlterExisting(ctx, "AT_AddColumn"))
        {
            if (cmd.Field("def").Is("ColumnDef", out var column) && ColumnFacts.VolatileCall(ColumnFacts.Default(column)) is { } function)
            {
                var name = column.Str("colname");
                yield return new RuleHit($"column {name} on {table} defaults to volatile {function}(): every row is rewritten",
                    $"ALTER TABLE {table} ADD COLUMN {name} {column.Field("typeName").TypeName()};\nALTER TABLE {table} ALTER COLUMN {name} SET DEFAULT {function}(…);\n-- then backfill existing rows in batches");
            }
        }
    }

    private static IEnumerable<RuleHit> AddColumnRewrites(StatementContext ctx)
    {
        foreach (var (table, cmd) in Statements.AlterExisting(ctx, "AT_AddColumn"))
        {
            if (cmd.Field("def").Is("ColumnDef", out var column)
                && (ColumnFacts.IsIdentity(column) || ColumnFacts.IsSerial(column) || ColumnFacts.IsStoredGenerated(column)))
            {
                var name = column.Str("colname");
                yield return new RuleHit($"column {name} on {table} is computed for every existing row: the table is rewritten",
                    $"ALTER TABLE {table} ADD COLUMN {name} <type>;  -- nullable, catalog-only; fill it in batches, then add the identity/default");
            }
        }
    }

    private static IEnumerable<RuleHit> RenameColumn(StatementContext ctx)
    {
        var node = ctx.Statement.Node;
        if (ctx.Statement.Kind == "RenameStmt" && node.Str("renameType") == "OBJECT_COLUMN" && ctx.Existing(node.Field("relation").Table()))
        {
            var table = node.Field("relation").Table();
            yield return new RuleHit($"renaming {table}.{node.Str("subname")} to {node.Str("newname")} breaks code that uses the old name",
                $"ALTER TABLE {table} ADD COLUMN {node.Str("newname")} …; write both, backfill, switch readers; drop {node.Str("subname")} later under '-- controlplane:contract'.");
        }
    }

    private static IEnumerable<RuleHit> RenameTable(StatementContext ctx)
    {
        var node = ctx.Statement.Node;
        if (ctx.Statement.Kind == "RenameStmt" && node.Str("renameType") == "OBJECT_TABLE" && ctx.Existing(node.Field("relation").Table()))
        {
            var table = node.Field("relation").Table();
            var renamed = node.Str("newname");
            // The compatibility view under the old name, later in the same file, keeps running code working.
            var shimmed = ctx.Migration.Forward.Statements.Any(s =>
                s.Index > ctx.Statement.Index && s.Kind == "ViewStmt" && s.Node.Field("view").Table().Matches(table));
            if (shimmed)
            {
                yield break;
            }
            yield return new RuleHit($"renaming table {table} to {renamed} breaks code that uses the old name",
                $"ALTER TABLE {table} RENAME TO {renamed}; CREATE VIEW {table} AS SELECT * FROM {(table.Schema.Length > 0 ? table.Schema + "." : "")}{renamed};  -- same file; drop the view when no code uses it");
        }
    }
}
