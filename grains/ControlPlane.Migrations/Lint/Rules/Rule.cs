using System.Text.Json;
using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Lint.Rules;

/// <summary>A rule: its documentation and a pure check of one statement in its context.</summary>
internal sealed record Rule(LintRule Info, Func<StatementContext, IEnumerable<RuleHit>> Check);

/// <summary>Shared readings of statements the rules make.</summary>
internal static class Statements
{
    /// <summary>The table and subcommands of an ALTER TABLE (none for any other statement).</summary>
    public static IEnumerable<(TableName Table, JsonElement Cmd)> AlterCommands(StatementContext ctx)
    {
        if (ctx.Statement.Kind != "AlterTableStmt" || ctx.Statement.Node.Str("objtype") is not ("" or "OBJECT_TABLE"))
        {
            yield break;
        }
        var table = ctx.Statement.Node.Field("relation").Table();
        foreach (var cmd in ctx.Statement.Node.Nodes("cmds", "AlterTableCmd"))
        {
            yield return (table, cmd);
        }
    }

    /// <summary>ALTER TABLE subcommands on a table that existed before this file.</summary>
    public static IEnumerable<(TableName Table, JsonElement Cmd)> AlterExisting(StatementContext ctx, params string[] subtypes) =>
        AlterCommands(ctx).Where(a => ctx.Existing(a.Table) && subtypes.Contains(a.Cmd.Str("subtype")));

    /// <summary>Constraints an ALTER TABLE adds to an existing table (table constraints and column constraints of added columns).</summary>
    public static IEnumerable<(TableName Table, JsonElement Constraint)> AddedConstraints(StatementContext ctx)
    {
        foreach (var (table, cmd) in AlterCommands(ctx).Where(a => ctx.Existing(a.Table)))
        {
            var def = cmd.Field("def");
            if (cmd.Str("subtype") == "AT_AddConstraint" && def.Is("Constraint", out var constraint))
            {
                yield return (table, constraint);
            }
            if (cmd.Str("subtype") == "AT_AddColumn" && def.Is("ColumnDef", out var column))
            {
                foreach (var c in column.Nodes("constraints", "Constraint"))
                {
                    yield return (table, c);
                }
            }
        }
    }

    /// <summary>Column definitions the statement writes: CREATE TABLE columns, added columns, ALTER … TYPE targets.</summary>
    public static IEnumerable<(TableName Table, JsonElement Column)> ColumnDefinitions(StatementContext ctx)
    {
        var node = ctx.Statement.Node;
        if (ctx.Statement.Kind == "CreateStmt")
        {
            var table = node.Field("relation").Table();
            foreach (var column in node.Nodes("tableElts", "ColumnDef"))
            {
                yield return (table, column);
            }
        }
        foreach (var (table, cmd) in AlterCommands(ctx))
        {
            if (cmd.Str("subtype") is "AT_AddColumn" or "AT_AlterColumnType" && cmd.Field("def").Is("ColumnDef", out var column))
            {
                // ALTER COLUMN … TYPE carries the column's name on the command, not in the definition.
                yield return (table, column.Str("colname").Length > 0 ? column : WithName(column, cmd.Str("name")));
            }
        }
    }

    private static JsonElement WithName(JsonElement column, string name)
    {
        var copy = new Dictionary<string, JsonElement>();
        foreach (var property in column.EnumerateObject())
        {
            copy[property.Name] = property.Value;
        }
        copy["colname"] = JsonSerializer.SerializeToElement(name);
        return JsonSerializer.SerializeToElement(copy);
    }

    public static string Sql(this StatementContext ctx) => ctx.Statement.Text;
}
