using ControlPlane.Grains.Health;

namespace ControlPlane.Grains.Failover;

/// <summary>A term and the primary it names, wherever it was read: the catalog, the local journal, an instance.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TierTerm")]
public sealed record TierTerm([property: Id(0)] long Term, [property: Id(1)] string Primary);

/// <summary>
/// The rules that keep a term going only up when the catalog cannot be trusted to hold it: restored from an old
/// backup, unreachable, or behind a decision taken while it was down. Pure; the tier and replica grains call them.
/// The fleet's instances carry the term of every promotion (<c>controlplane.term_history</c>), so the highest term
/// any instance reports is a floor for the tier: it adopts it (with the primary it names) before deciding anything,
/// and every new decision takes a term above everything it has seen.
/// </summary>
public static class TermFence
{
    /// <summary>The terms the tier's replicas last reported from their instances.</summary>
    public static IEnumerable<TierTerm> Observed(IEnumerable<ReplicaHealth> reports) =>
        reports.Where(r => r is { InstanceTerm: > 0, InstanceTermPrimary: not null })
            .Select(r => new TierTerm(r.InstanceTerm!.Value, r.InstanceTermPrimary!));

    /// <summary>
    /// The tier's term after reconciliation: the highest of <paramref name="current"/> and every observation, with
    /// the primary that term names. On a tie the current one stands: a term is decided once, and the catalog (or the
    /// activation's memory) already names its primary.
    /// </summary>
    public static TierTerm Reconcile(TierTerm current, IEnumerable<TierTerm> observed)
    {
        ArgumentNullException.ThrowIfNull(current);
        var best = current;
        foreach (var o in observed)
        {
            if (o.Term > best.Term) best = o;
        }
        return best;
    }

    /// <summary>
    /// The term of the next decision: above the current one and every term observed. One more is skipped when the
    /// previous owner of the tier did not hand it over cleanly (<paramref name="uncleanHandover"/>): it may have
    /// decided a term while the catalog was down and died before any reachable instance or the catalog learnt it,
    /// so that term is burnt rather than risked twice.
    /// </summary>
    public static long NextTerm(long current, IEnumerable<long> observed, bool uncleanHandover)
    {
        var highest = observed.Aggregate(current, Math.Max);
        return highest + (uncleanHandover ? 2 : 1);
    }

    /// <summary>True when a decision in <paramref name="term"/> is above every term seen; false means stale.</summary>
    public static bool MayDecide(long term, long current, IEnumerable<long> observed) =>
        term > current && observed.All(o => term > o);

    /// <summary>
    /// Whether a replica obeys a command of <paramref name="term"/>: not when it already obeyed a higher one
    /// (persisted or only remembered while the catalog was down) nor when its instance carries a higher one.
    /// </summary>
    public static bool Accepts(long term, long persisted, long remembered, long? instance) =>
        term >= Math.Max(Math.Max(persisted, remembered), instance ?? 0);
}
