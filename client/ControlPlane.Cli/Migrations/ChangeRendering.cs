using System.Globalization;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ControlPlane.Cli.Migrations;

/// <summary>Human views of change requests. Everything shown is escaped: names, SQL and errors come from users.</summary>
internal static class ChangeRendering
{
    private const int HistoryShown = 15;

    public static IRenderable Change(ChangeInfo c, bool plan)
    {
        var rows = new List<IRenderable>
        {
            new Markup($"change [bold]{E(c.ChangeId)}[/] on {E(c.Tier)} ({E(c.Environment)}): [bold]{Phase(c.Phase)}[/], by {E(c.Author)}, submitted {FleetFormat.Time(c.SubmittedAt)}"),
            new Markup($"  {E(c.Description)}"),
            new Markup($"  versions {E(string.Join(", ", c.Versions))}; approvals {c.Approvals.Count} of {c.RequiredApprovals}"
                + (c.Approvals.Count > 0 ? $" ({E(string.Join(", ", c.Approvals.Select(a => a.Principal + (a.Waiver.Length > 0 ? " waiving: " + a.Waiver : ""))))})" : "")
                + (c.Tags.Count > 0 ? $"; tags {E(string.Join(", ", c.Tags))}" : "")),
        };
        if (c.Batches > 0) rows.Add(new Markup($"  batch {Math.Min(c.Batch + 1, c.Batches)} of {c.Batches}{(c.RollingBack ? ", rolling back" : "")}"));
        if (c.HaltReason.Length > 0) rows.Add(new Markup($"  [red]{E(c.HaltReason)}[/]"));
        if (c.Findings.Count > 0)
        {
            var findings = new Table().Border(TableBorder.Simple).AddColumns("RULE", "SEVERITY", "WHERE", "FINDING");
            foreach (var f in c.Findings) findings.AddRow(E(f.RuleId), f.Error ? "[red]error[/]" : "warning", E($"{f.File}:{f.Line}"), E(f.Message));
            rows.Add(findings);
        }
        if (plan && c.Plan.Count > 0)
        {
            var statements = new Table().Border(TableBorder.Simple).AddColumns("VERSION", "#", "STATEMENT", "LOCK", "TABLES", "REWRITES", "DURATION");
            foreach (var p in c.Plan)
                statements.AddRow(N(p.Version), N(p.Index + 1), E(p.Kind), E(p.Lock), E(string.Join(", ", p.Tables)), p.Rewrites ? "[yellow]yes[/]" : "no", E(p.Duration));
            rows.Add(statements);
        }
        rows.Add(Targets(c));
        if (c.History.Count > 0)
        {
            var history = new Table().Border(TableBorder.Simple).AddColumns("AT (UTC)", "EVENT", "BY");
            foreach (var h in c.History.TakeLast(HistoryShown)) history.AddRow(FleetFormat.Time(h.At), E(h.Event), E(h.Principal));
            rows.Add(history);
        }
        return new Rows(rows);
    }

    public static IRenderable List(ListChangesResponse response)
    {
        var table = new Table().Border(TableBorder.Simple).AddColumns("CHANGE", "TIER", "PHASE", "AUTHOR", "VERSIONS", "TARGETS", "DESCRIPTION");
        foreach (var c in response.Changes)
            table.AddRow(E(c.ChangeId), E(c.Tier), Phase(c.Phase), E(c.Author), E(string.Join(",", c.Versions)), Summary(c), E(c.Description));
        return table;
    }

    /// <summary>One line per update of a watched change.</summary>
    public static string WatchLine(ChangeInfo c) =>
        $"{DateTime.UtcNow.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} {E(c.ChangeId)} [bold]{Phase(c.Phase)}[/] batch {Math.Min(c.Batch + 1, Math.Max(c.Batches, 1))}/{c.Batches} {Summary(c)}"
        + (c.HaltReason.Length > 0 ? $" [red]{E(c.HaltReason)}[/]" : "");

    private static Table Targets(ChangeInfo c)
    {
        var table = new Table().Border(TableBorder.Simple).AddColumns("TARGET", "BATCH", "STATE", "PENDING", "APPLIED", "PROBLEM");
        foreach (var t in c.Targets)
        {
            var problem = t.Error.Length > 0 ? $"version {t.FailedVersion}, {t.Statement}: {t.Error}" : string.Join("; ", t.Drift);
            table.AddRow(E(t.Schema), N(t.Batch + 1), State(t.State), E(string.Join(",", t.Pending)), E(string.Join(",", t.Applied)), E(problem));
        }
        return table;
    }

    private static string Summary(ChangeInfo c) =>
        string.Join(" ", c.Targets.GroupBy(t => t.State).OrderBy(g => g.Key).Select(g => $"{Word(g.Key)}={g.Count()}"));

    private static string Phase(ChangePhase phase) => phase switch
    {
        ChangePhase.Completed => "[green]completed[/]",
        ChangePhase.Halted => "[red]halted[/]",
        ChangePhase.RolledBack => "[yellow]rolled back[/]",
        _ => phase.ToString().Replace("RollingOut", "rolling out", StringComparison.Ordinal).Replace("RollingBack", "rolling back", StringComparison.Ordinal).ToLowerInvariant(),
    };

    private static string State(ChangeTargetState state) => state switch
    {
        ChangeTargetState.Failed => "[red]failed[/]",
        ChangeTargetState.Blocked => "[red]blocked[/]",
        ChangeTargetState.Applied => "[green]applied[/]",
        _ => Word(state),
    };

    private static string Word(ChangeTargetState state) => state.ToString().Replace("RollingBack", "rolling-back", StringComparison.Ordinal)
        .Replace("RolledBack", "rolled-back", StringComparison.Ordinal).ToLowerInvariant();

    private static string N(long n) => n.ToString(CultureInfo.InvariantCulture);

    private static string E(string text) => Markup.Escape(text);
}
