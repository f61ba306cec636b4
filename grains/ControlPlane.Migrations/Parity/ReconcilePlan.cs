using ControlPlane.Migrations.Impact;

namespace ControlPlane.Migrations.Parity;

/// <summary>
/// One statement of a reconcile script with what running it costs: the strongest lock it takes, whether it rewrites
/// or scans a table, whether it destroys data, and the hazards in words.
/// </summary>
public sealed record ReconcileStatement(
    ObjectKind Kind, string Object, string Sql, LockLevel Lock, bool Rewrites, bool Scans, bool DataLoss, IReadOnlyList<string> Hazards);

/// <summary>
/// The differences from A to B and the statements that turn A into B, in dependency order. <see cref="Preamble"/>
/// holds the session settings the statements assume (search_path, check_function_bodies); <see cref="Notes"/> what
/// the script cannot reconcile (an index B holds invalid, which no statement can create as such).
/// </summary>
public sealed record SchemaReconciliation(
    IReadOnlyList<SchemaDifference> Differences,
    IReadOnlyList<string> Preamble,
    IReadOnlyList<ReconcileStatement> Statements,
    IReadOnlyList<string> Notes)
{
    public bool Equal => Differences.Count == 0;

    /// <summary>The script as one text, each statement ended by a semicolon, its hazards as comments above it.</summary>
    public string Script()
    {
        if (Statements.Count == 0) return "";
        var lines = Preamble.Select(p => p + ";").ToList();
        foreach (var s in Statements)
        {
            if (s.Hazards.Count > 0) lines.Add("-- " + string.Join("; ", s.Hazards));
            lines.Add(s.Sql + ";");
        }
        return string.Join('\n', lines) + "\n";
    }
}
