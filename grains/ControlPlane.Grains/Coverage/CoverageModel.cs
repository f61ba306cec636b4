namespace ControlPlane.Grains.Coverage;

/// <summary>What one piece of evidence says about an operational area of a tier, right now.</summary>
public enum EvidenceState
{
    /// <summary>Set up, and there is nothing to run to prove it (a setting, a built-in gate).</summary>
    Configured = 0,
    /// <summary>Its last check ran recently enough and passed.</summary>
    Passing = 1,
    /// <summary>Never checked, or its last check is older than the area allows: no longer evidence.</summary>
    Stale = 2,
    /// <summary>Its last check failed, or its configuration is wrong: the area is degraded.</summary>
    Failing = 3,
    /// <summary>The control plane has no capability that could provide it yet.</summary>
    NotAvailable = 4,
}

/// <summary>One item of evidence: what it is, its state, why, and the command that raises it.</summary>
public sealed record EvidenceItem(string Id, string Title, EvidenceState State, string Reason, string Fix)
{
    /// <summary>Configured and passing items are covered; stale, failing and missing ones are not.</summary>
    public bool Covered => State is EvidenceState.Configured or EvidenceState.Passing;
}

/// <summary>One area of one tier: its evidence and the share of it that is covered.</summary>
public sealed record AreaCoverage(CoverageArea Area, IReadOnlyList<EvidenceItem> Items)
{
    public double Percent => Items.Count == 0 ? 0 : Math.Round(100.0 * Items.Count(i => i.Covered) / Items.Count, 1);

    /// <summary>False when no item of the area can be measured yet (its capability does not exist).</summary>
    public bool Available => Items.Any(i => i.State != EvidenceState.NotAvailable);

    public int Failing => Items.Count(i => i.State == EvidenceState.Failing);

    public int Stale => Items.Count(i => i.State == EvidenceState.Stale);
}

/// <summary>The eleven areas of one tier, in <see cref="CoverageAreas.All"/> order.</summary>
public sealed record TierCoverage(string Tier, IReadOnlyList<AreaCoverage> Areas)
{
    public double Percent => CoverageMath.Mean(Areas.Select(a => a.Percent));
}

/// <summary>One area over every tier of the environment.</summary>
public sealed record AreaSummary(CoverageArea Area, double Percent, bool Available, int Failing, int Stale);

/// <summary>An environment's coverage: per tier and area, per area over the tiers, and overall.</summary>
public sealed record CoverageReport(string Environment, DateTimeOffset EvaluatedAt, IReadOnlyList<TierCoverage> Tiers)
{
    /// <summary>Each area averaged over the tiers.</summary>
    public IReadOnlyList<AreaSummary> Areas => CoverageAreas.All.Select(area =>
    {
        var rows = Tiers.SelectMany(t => t.Areas).Where(a => a.Area.Id == area.Id).ToList();
        return new AreaSummary(area, CoverageMath.Mean(rows.Select(r => r.Percent)), rows.Any(r => r.Available),
            rows.Sum(r => r.Failing), rows.Sum(r => r.Stale));
    }).ToList();

    /// <summary>The mean of the eleven areas, unavailable ones counting as 0 %, as the fleet's own review counted them.</summary>
    public double Percent => CoverageMath.Mean(Areas.Select(a => a.Percent));
}

internal static class CoverageMath
{
    public static double Mean(IEnumerable<double> values)
    {
        var list = values.ToList();
        return list.Count == 0 ? 0 : Math.Round(list.Average(), 1);
    }
}
