using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Parity;

/// <summary>
/// A reconcile statement's cost, from the migrations impact analysis: the script is parsed by PostgreSQL's grammar
/// and each statement analysed as a migration's would be, so parity and the change lint agree on what locks.
/// </summary>
internal static class ReconcileHazards
{
    public static IReadOnlyList<ReconcileStatement> Annotate(IReadOnlyList<PlannedDdl> drafts)
    {
        if (drafts.Count == 0) return [];
        var parsed = SqlParser.Shared.Parse(string.Join(";\n", drafts.Select(d => d.Sql)) + ";").Statements;
        if (parsed.Count != drafts.Count)
        {
            throw new InvalidOperationException($"the reconcile script parsed as {parsed.Count} statements, expected {drafts.Count}");
        }
        return [.. drafts.Select((d, i) => Annotate(d, ImpactAnalyzer.Analyze(parsed[i])))];
    }

    private static ReconcileStatement Annotate(PlannedDdl draft, StatementImpact impact)
    {
        var hazards = new List<string>();
        if (draft.DataLoss is not null) hazards.Add("data loss: " + draft.DataLoss);
        var tables = string.Join(", ", impact.Locks.Where(l => l.Level == impact.Lock).Select(l => l.Table.Name).Distinct());
        if (impact.Rewrites) hazards.Add($"rewrites {tables} under its lock");
        else if (impact.Scans) hazards.Add($"scans {tables} under its lock");
        if (impact.BlocksReads) hazards.Add($"blocks reads and writes of {tables} ({impact.Lock.ToSql()})");
        else if (impact.BlocksWrites) hazards.Add($"blocks writes to {tables} ({impact.Lock.ToSql()})");
        return new ReconcileStatement(draft.Kind, draft.Object, draft.Sql, impact.Lock, impact.Rewrites, impact.Scans,
            draft.DataLoss is not null, hazards);
    }
}

/// <summary>A statement as planned, before its impact is known; DataLoss says what it destroys, if anything.</summary>
internal sealed record PlannedDdl(ObjectKind Kind, string Object, string Sql, string? DataLoss = null);
