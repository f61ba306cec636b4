namespace ControlPlane.Grains.Failover;

/// <summary>What one silo (a vantage point, named after its host) saw of one replica at its last probe.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.VantageReport")]
public sealed record VantageReport(
    [property: Id(0)] string Silo,
    [property: Id(1)] string Replica,
    [property: Id(2)] bool Reachable,
    [property: Id(3)] DateTimeOffset At);

/// <summary>What the tier knows of its vantage points when its primary looks failed.</summary>
/// <param name="Probing">Silos that ever reported to this activation of the tier: the vantage points there are.</param>
/// <param name="Active">Silos the cluster counts as active right now.</param>
/// <param name="PrimaryHome">The silo of the primary's host (its name), when the primary names a host.</param>
public sealed record VantageView(
    IReadOnlyCollection<string> Probing,
    IReadOnlyCollection<string> Active,
    string? PrimaryHome,
    IReadOnlyList<VantageReport> Reports,
    DateTimeOffset Now,
    TimeSpan StaleAfter);

/// <summary>Whether the vantage points confirm a failure, and why; no reason when there is one vantage point only.</summary>
public sealed record VantageVerdict(bool Confirmed, string Reason);

/// <summary>
/// Evidence from more than one vantage point (docs/hosts.md, Partitions). A primary the tier cannot reach is failed
/// over only when most vantage points cannot reach it either: with k active silos probing, more than k/2 must report
/// it unreachable in a fresh probe (a silent or stale one does not count as failure). One vantage point (a single
/// silo, or silos that do not probe) keeps the tier's own judgement, as before.
///
/// <para>The silo of the primary's own host is special: while it is an active member and has not itself seen the
/// primary fail, a failover waits. If that silo is cut off, it fences its primary itself before the cluster can vote
/// it out (<see cref="Hosts.SelfFencePolicy"/>); once voted out it is no longer a vantage point, and the others
/// decide.</para>
/// </summary>
public static class VantagePolicy
{
    public static VantageVerdict Confirm(string primary, VantageView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var points = view.Probing.Where(view.Active.Contains).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        // One vantage point: the tier's own probes decide, as before (and the decision's evidence says nothing more).
        if (points.Count <= 1) return new(true, "");
        var latest = view.Reports
            .Where(r => r.Replica == primary && points.Contains(r.Silo) && view.Now - r.At <= view.StaleAfter)
            .GroupBy(r => r.Silo)
            .Select(g => g.MaxBy(r => r.At)!)
            .ToList();
        var failing = latest.Where(r => !r.Reachable).Select(r => r.Silo).Order(StringComparer.Ordinal).ToList();
        var reaching = latest.Where(r => r.Reachable).Select(r => r.Silo).Order(StringComparer.Ordinal).ToList();
        if (view.PrimaryHome is { } home && points.Contains(home) && !failing.Contains(home))
        {
            return new(false, $"the silo of {primary}'s host ({home}) is in the cluster and has not seen {primary} fail: " +
                "if it is cut off it fences its primary first; waiting until it reports the failure or is voted out");
        }
        if (failing.Count * 2 > points.Count)
            return new(true, $"{failing.Count} of {points.Count} vantage points cannot reach {primary}: {string.Join(", ", failing)}");
        return new(false, $"only {failing.Count} of {points.Count} vantage points cannot reach {primary}" +
            (reaching.Count > 0 ? $" ({string.Join(", ", reaching)} still reach it)" : "") + "; a majority is needed");
    }
}
