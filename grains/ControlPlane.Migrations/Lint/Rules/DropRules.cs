using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Lint.Rules;

/// <summary>
/// Drops lose data and break running code. They are allowed when the file says it is the contract step of an
/// expand/contract change, or when its undo script recreates what it drops (so a rollback restores the shape).
/// </summary>
internal static class DropRules
{
    private const string Rewrite =
        "Drop in a separate, later change whose header says '-- controlplane:contract' (after no code uses the object), or write a U<version>__*.sql undo that recreates it.";

    public static IEnumerable<Rule> All =>
    [
        new(new LintRule("CP012", "drop-column", Severity.Error,
                "DROP COLUMN without an undo or a contract marker",
                "Code that still reads or writes the column fails once the drop commits, and the data is gone: a rollback cannot bring it back unless the undo recreates the column.",
                "ALTER TABLE orders DROP COLUMN legacy_ref;",
                "-- controlplane:contract\nALTER TABLE orders DROP COLUMN legacy_ref;   -- and/or U<version>__*.sql: ALTER TABLE orders ADD COLUMN legacy_ref text;"),
            DropColumn),
        new(new LintRule("CP013", "drop-table", Severity.Error,
                "DROP TABLE without an undo or a contract marker",
                "Code that uses the table fails at once and the data is gone.",
                "DROP TABLE order_archive;",
                "-- controlplane:contract\nDROP TABLE order_archive;   -- and/or an undo that recreates it: CREATE TABLE order_archive (…);"),
            DropTable),
        new(new LintRule("CP014", "drop-schema", Severity.Error,
                "DROP SCHEMA without an undo or a contract marker",
                "Everything in the schema goes with it (with CASCADE, silently).",
                "DROP SCHEMA reporting CASCADE;",
                "-- controlplane:contract\nDROP SCHEMA reporting;   -- and/or an undo: CREATE SCHEMA reporting; …"),
            DropSchema),
    ];

    private static IEnumerable<RuleHit> DropColumn(StatementContext ctx)
    {
        if (ctx.Contract)
        {
            yield break;
        }
        foreach (var (table, cmd) in Statements.AlterExisting(ctx, "AT_DropColumn"))
        {
            var column = cmd.Str("name");
            if (!UndoAddsColumn(ctx.Undo, table, column))
            {
                yield return new RuleHit($"dropping {table}.{column} loses its data and breaks code still using it", Rewrite);
            }
        }
    }

    private static IEnumerable<RuleHit> DropTable(StatementContext ctx)
    {
        if (ctx.Contract || ctx.Statement.Kind != "DropStmt" || ctx.Statement.Node.Str("removeType") != "OBJECT_TABLE")
        {
            yield break;
        }
        foreach (var table in ImpactAnalyzer.DroppedNames(ctx.Statement.Node).Where(t => ctx.Existing(t) && !UndoCreatesTable(ctx.Undo, t)))
        {
            yield return new RuleHit($"dropping table {table} loses its data and breaks code still using it", Rewrite);
        }
    }

    private static IEnumerable<RuleHit> DropSchema(StatementContext ctx)
    {
        if (ctx.Contract || ctx.Statement.Kind != "DropStmt" || ctx.Statement.Node.Str("removeType") != "OBJECT_SCHEMA")
        {
            yield break;
        }
        foreach (var schema in ImpactAnalyzer.DroppedNames(ctx.Statement.Node).Select(n => n.Name).Where(s => !UndoCreatesSchema(ctx.Undo, s)))
        {
            yield return new RuleHit($"dropping schema {schema} drops everything in it", Rewrite);
        }
    }

    private static bool UndoCreatesTable(ParsedScript? undo, TableName table) =>
        undo is not null && undo.Statements.Any(s =>
            (s.Kind == "CreateStmt" && s.Node.Field("relation").Table().Matches(table))
            || (s.Kind == "CreateTableAsStmt" && s.Node.Field("into").Field("rel").Table().Matches(table)));

    private static bool UndoCreatesSchema(ParsedScript? undo, string schema) =>
        undo is not null && undo.Statements.Any(s => s.Kind == "CreateSchemaStmt" && s.Node.Str("schemaname") == schema);

    private static bool UndoAddsColumn(ParsedScript? undo, TableName table, string column) =>
        undo is not null && undo.Statements.Any(s =>
            s.Kind == "AlterTableStmt" && s.Node.Field("relation").Table().Matches(table)
            && s.Node.Nodes("cmds", "AlterTableCmd").Any(c =>
                c.Str("subtype") == "AT_AddColumn" && c.Field("def").Field("ColumnDef").Str("colname") == column));
}
