using System.Text.Json;
using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Impact;

/// <summary>
/// The lock, rewrite and scan behaviour of a statement, read from its parse tree (pure; PostgreSQL 15 semantics, as
/// documented under "Explicit Locking" and ALTER TABLE). Table sizes are not known here: the plan combines this with
/// a target's sizes through <see cref="DurationEstimator"/>.
/// </summary>
public static class ImpactAnalyzer
{
    public static StatementImpact Analyze(ParsedStatement statement)
    {
        var locks = new List<TableLock>();
        var creates = new List<TableName>();
        var rewrites = false;
        var scans = false;
        var node = statement.Node;
        switch (statement.Kind)
        {
            case "IndexStmt":
                locks.Add(new(node.Field("relation").Table(),
                    node.Bool("concurrent") ? LockLevel.ShareUpdateExclusive : LockLevel.Share));
                scans = true;
                creates.Add(new TableName(node.Field("relation").Str("schemaname"), node.Str("idxname")));
                break;
            case "DropStmt":
                var dropLevel = node.Bool("concurrent") ? LockLevel.ShareUpdateExclusive : LockLevel.AccessExclusive;
                locks.AddRange(DroppedNames(node).Select(n => new TableLock(n, dropLevel)));
                break;
            case "AlterTableStmt":
                var table = node.Field("relation").Table();
                foreach (var cmd in node.Nodes("cmds", "AlterTableCmd"))
                {
                    var effect = AlterEffect(cmd);
                    locks.Add(new(table, effect.Level));
                    rewrites |= effect.Rewrites;
                    scans |= effect.Scans;
                    if (cmd.Field("def").Is("Constraint", out var constraint) && constraint.Str("contype") == "CONSTR_FOREIGN")
                    {
                        locks.Add(new(constraint.Field("pktable").Table(), LockLevel.ShareRowExclusive));
                    }
                }
                break;
            case "RenameStmt":
            case "CreatePolicyStmt":
            case "AlterPolicyStmt":
                locks.Add(new(node.Field(statement.Kind == "RenameStmt" ? "relation" : "table").Table(), LockLevel.AccessExclusive));
                break;
            case "CreateStmt":
                creates.Add(node.Field("relation").Table());
                foreach (var fk in ForeignKeys(node))
                {
                    locks.Add(new(fk, LockLevel.ShareRowExclusive));
                }
                break;
            case "CreateTableAsStmt":
                creates.Add(node.Field("into").Field("rel").Table());
                break;
            case "TruncateStmt":
                locks.AddRange(node.Nodes("relations", "RangeVar").Select(r => new TableLock(r.Table(), LockLevel.AccessExclusive)));
                break;
            case "VacuumStmt":
                var full = node.Nodes("options", "DefElem").Any(d => d.Str("defname") == "full");
                var level = full ? LockLevel.AccessExclusive : LockLevel.ShareUpdateExclusive;
                locks.AddRange(node.Nodes("rels", "VacuumRelation").Select(r => new TableLock(r.Field("relation").Table(), level)));
                rewrites = full;
                scans = true;
                break;
            case "ClusterStmt":
                locks.Add(new(node.Field("relation").Table(), LockLevel.AccessExclusive));
                rewrites = true;
                break;
            case "ReindexStmt":
                var concurrently = node.Nodes("params", "DefElem").Any(d => d.Str("defname") == "concurrently");
                locks.Add(new(node.Field("relation").Table(), concurrently ? LockLevel.ShareUpdateExclusive
                    : node.Str("kind") == "REINDEX_OBJECT_INDEX" ? LockLevel.AccessExclusive : LockLevel.Share));
                scans = true;
                break;
            case "RefreshMatViewStmt":
                locks.Add(new(node.Field("relation").Table(), node.Bool("concurrent") ? LockLevel.Exclusive : LockLevel.AccessExclusive));
                rewrites = true;
                break;
            case "LockStmt":
                var mode = LockLevelText.FromLockMode(node.Int("mode"));
                locks.AddRange(node.Nodes("relations", "RangeVar").Select(r => new TableLock(r.Table(), mode)));
                break;
            case "CreateTrigStmt":
                locks.Add(new(node.Field("relation").Table(), LockLevel.ShareRowExclusive));
                break;
            case "InsertStmt":
            case "UpdateStmt":
            case "DeleteStmt":
                locks.Add(new(node.Field("relation").Table(), LockLevel.RowExclusive));
                scans = statement.Kind != "InsertStmt";
                break;
        }
        return new StatementImpact(statement.Index, statement.Position, statement.Kind, locks, rewrites, scans, creates);
    }

    /// <summary>The relations a DROP names (tables, indexes, views; a policy's table; a schema as a name).</summary>
    public static IReadOnlyList<TableName> DroppedNames(JsonElement drop)
    {
        var names = new List<TableName>();
        foreach (var obj in drop.Items("objects"))
        {
            if (obj.Is("List", out var list))
            {
                var parts = list.Names("items");
                // DROP POLICY p ON t lists [t, p]: the table is what gets locked.
                names.Add(drop.Str("removeType") is "OBJECT_POLICY" or "OBJECT_TRIGGER" or "OBJECT_RULE"
                    ? Qualified(parts.Take(parts.Count - 1).ToArray())
                    : Qualified(parts));
            }
            else if (obj.Is("String", out var single))
            {
                names.Add(new TableName("", single.Str("sval")));
            }
        }
        return names;
    }

    private static TableName Qualified(IReadOnlyList<string> parts) =>
        parts.Count switch
        {
            0 => new TableName("", ""),
            1 => new TableName("", parts[0]),
            _ => new TableName(parts[^2], parts[^1]),
        };

    private static IEnumerable<TableName> ForeignKeys(JsonElement create)
    {
        foreach (var element in create.Items("tableElts"))
        {
            if (element.Is("Constraint", out var table) && table.Str("contype") == "CONSTR_FOREIGN")
            {
                yield return table.Field("pktable").Table();
            }
            if (element.Is("ColumnDef", out var column))
            {
                foreach (var c in column.Nodes("constraints", "Constraint").Where(c => c.Str("contype") == "CONSTR_FOREIGN"))
                {
                    yield return c.Field("pktable").Table();
                }
            }
        }
    }

    private readonly record struct Effect(LockLevel Level, bool Rewrites, bool Scans);

    // The lock each ALTER TABLE subcommand takes (AlterTableGetLockLevel in tablecmds.c, as documented).
    private static Effect AlterEffect(JsonElement cmd)
    {
        var def = cmd.Field("def");
        switch (cmd.Str("subtype"))
        {
            case "AT_AddColumn":
                var column = def.Is("ColumnDef", out var c) ? c : default;
                return new(LockLevel.AccessExclusive, ColumnFacts.AddColumnRewrites(column), false);
            case "AT_AlterColumnType":
                return new(LockLevel.AccessExclusive, true, false);
            case "AT_SetNotNull":
                return new(LockLevel.AccessExclusive, false, true);
            case "AT_AddConstraint":
                if (!def.Is("Constraint", out var constraint))
                {
                    return new(LockLevel.AccessExclusive, false, false);
                }
                var validates = !constraint.Bool("skip_validation");
                return constraint.Str("contype") switch
                {
                    "CONSTR_FOREIGN" => new(LockLevel.ShareRowExclusive, false, validates),
                    "CONSTR_CHECK" => new(LockLevel.AccessExclusive, false, validates),
                    "CONSTR_PRIMARY" or "CONSTR_UNIQUE" or "CONSTR_EXCLUSION" =>
                        new(LockLevel.AccessExclusive, false, constraint.Str("indexname").Length == 0),
                    _ => new(LockLevel.AccessExclusive, false, false),
                };
            case "AT_ValidateConstraint":
                return new(LockLevel.ShareUpdateExclusive, false, true);
            case "AT_SetStatistics":
            case "AT_ClusterOn":
            case "AT_DropCluster":
            case "AT_SetRelOptions":
            case "AT_ResetRelOptions":
            case "AT_AttachPartition":
                return new(LockLevel.ShareUpdateExclusive, false, false);
            case "AT_DetachPartition":
                return new(cmd.Field("def").Field("PartitionCmd").Bool("concurrent")
                    ? LockLevel.ShareUpdateExclusive : LockLevel.AccessExclusive, false, false);
            case "AT_EnableTrig":
            case "AT_DisableTrig":
            case "AT_EnableTrigAll":
            case "AT_DisableTrigAll":
            case "AT_EnableTrigUser":
            case "AT_DisableTrigUser":
            case "AT_EnableAlwaysTrig":
            case "AT_EnableReplicaTrig":
            case "AT_AddIndex":
                return new(LockLevel.ShareRowExclusive, false, false);
            case "AT_SetTableSpace":
            case "AT_SetLogged":
            case "AT_SetUnLogged":
                return new(LockLevel.AccessExclusive, true, false);
            default:
                return new(LockLevel.AccessExclusive, false, false);
        }
    }
}
