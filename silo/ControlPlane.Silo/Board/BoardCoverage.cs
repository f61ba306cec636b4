using ControlPlane.Grains.Coverage;

namespace ControlPlane.Silo.Board;

public sealed record CoverageItemView(string Id, string Title, string State, string Reason, string Fix);

public sealed record CoverageTierAreaView(string Id, string Title, double Percent, bool Available, IReadOnlyList<CoverageItemView> Items);

public sealed record CoverageTierView(string Tier, double Percent, IReadOnlyList<CoverageTierAreaView> Areas);

public sealed record CoverageAreaView(string Id, string Title, double Percent, bool Available, int Failing, int Stale, string Doc);

/// <summary>The runbooks page: one runbook as markdown, shown as text.</summary>
public sealed record RunbookView(string Kind, string Tier, string Title, string Markdown, DateTimeOffset RenderedAt);

/// <summary>The coverage page: overall, per area over the tiers, and per tier every evidence item with its fix.</summary>
public sealed record CoverageView(bool Available, double Percent, DateTimeOffset EvaluatedAt, IReadOnlyList<CoverageAreaView> Areas, IReadOnlyList<CoverageTierView> Tiers);

/// <summary>Coverage reports as the board shows them. Pure.</summary>
public static class BoardCoverage
{
    public static CoverageView View(CoverageReport report) =>
        new(true, report.Percent, report.EvaluatedAt,
            report.Areas.Select(a => new CoverageAreaView(a.Area.Id, a.Area.Title, a.Percent, a.Available, a.Failing, a.Stale, a.Area.Doc)).ToList(),
            report.Tiers.Select(t => new CoverageTierView(t.Tier, t.Percent, t.Areas.Select(a => new CoverageTierAreaView(a.Area.Id, a.Area.Title, a.Percent, a.Available,
                a.Items.Select(i => new CoverageItemView(i.Id, i.Title, State(i.State), i.Reason, i.Fix)).ToList())).ToList())).ToList());

    /// <summary>The words the CLI uses (cpctl coverage), so the board and the terminal read the same.</summary>
    public static string State(EvidenceState state) => state switch
    {
        EvidenceState.Configured => "configured",
        EvidenceState.Passing => "passing",
        EvidenceState.Stale => "stale",
        EvidenceState.Failing => "failing",
        _ => "not available",
    };
}
