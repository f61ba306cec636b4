namespace ControlPlane.Grains.Hosts;

/// <summary>What a host's silo does to its own primary when it finds itself cut off from the cluster.</summary>
public enum SelfFenceAction
{
    /// <summary><c>ALTER SYSTEM SET default_transaction_read_only = on</c>, a reload, every client session
    /// terminated: the instance keeps running (reads, a fast unfence) but takes no ordinary write.</summary>
    ReadOnly = 0,
    /// <summary>A fast stop of the postmaster: nothing can write, not even a session that asks for read-write.</summary>
    Stop = 1,
    /// <summary>Never fence (a host whose partitions are handled outside the control plane).</summary>
    Off = 2,
}

/// <summary>
/// <c>ControlPlane:Host:SelfFence</c>. <see cref="After"/> is the bound: a primary whose host's silo reached neither
/// the catalog (the membership table) nor any other silo for that long stops taking writes. It must end before the
/// cluster can vote the silo dead (<see cref="Validate"/>): only then may another host's silo activate the primary's
/// replica grain and fail it over, so the old primary is fenced before any other host may promote (docs/hosts.md).
/// </summary>
public sealed class SelfFenceSettings
{
    public SelfFenceAction Action { get; set; } = SelfFenceAction.ReadOnly;

    /// <summary>How long without contact before the silo fences its primary.</summary>
    public TimeSpan After { get; set; } = TimeSpan.FromSeconds(1.5);

    /// <summary>How often the silo checks the catalog and its peers (each check's deadline too).</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Missed membership probes after which Orleans suspects a silo (HostingExtensions sets it).</summary>
    public const int MissedProbesLimit = 3;

    /// <summary>
    /// The latest moment a cut-off silo has fenced, counted from its last contact: the bound, one check interval
    /// for the check that notices it, and one more for probing and fencing the instance.
    /// </summary>
    public TimeSpan FencedWithin => After + CheckInterval + CheckInterval;

    /// <summary>The problems with these settings, each naming the key, the value and what was expected.</summary>
    /// <param name="clusterProbeTimeout"><c>ControlPlane:Cluster:ProbeTimeout</c>: the cluster votes a silo dead after
    /// <see cref="MissedProbesLimit"/> of them; no other host may promote this host's primary before that.</param>
    public IEnumerable<string> Validate(TimeSpan clusterProbeTimeout)
    {
        const string key = HostIdentity.Section + ":SelfFence";
        if (!Enum.IsDefined(Action)) yield return $"{key}:Action is '{Action}'; expected ReadOnly, Stop or Off.";
        if (CheckInterval < TimeSpan.FromMilliseconds(50) || CheckInterval > TimeSpan.FromSeconds(5))
            yield return $"{key}:CheckInterval is {CheckInterval}; expected 00:00:00.050 to 00:00:05.";
        var death = clusterProbeTimeout * MissedProbesLimit;
        if (After <= TimeSpan.Zero || (Action != SelfFenceAction.Off && FencedWithin >= death))
        {
            yield return $"{key}:After is {After}; expected more than 0 and, with two check intervals ({CheckInterval} each), less than " +
                $"{MissedProbesLimit} × ControlPlane:Cluster:ProbeTimeout = {death}: the primary must be fenced before the cluster can vote its silo dead.";
        }
    }
}

/// <summary>A self-fence, written to the silo's disk before the instance is touched.</summary>
/// <param name="Term">The tier's term the instance carried when fenced (its <c>controlplane.term_history</c>); null when it had none.</param>
public sealed record SelfFenceRecord(string Tier, string Replica, long? Term, SelfFenceAction Action, DateTimeOffset At, string Reason);

/// <summary>The tier's term and primary, as its grain answers once the silo is back in the cluster.</summary>
public sealed record TierAnswer(long Term, string Primary);

/// <summary>Everything the host's silo knows about one of its replicas when it decides.</summary>
/// <param name="LastContact">When the catalog or another silo last answered this silo.</param>
/// <param name="Peers">Other silos of the cluster at the last contact.</param>
/// <param name="Fence">This silo's standing self-fence of the replica; null when none.</param>
/// <param name="Writable">Whether the instance takes writes (not in recovery, not already read-only); null when not probed.</param>
/// <param name="Tier">The tier's answer; null while it cannot be asked.</param>
/// <param name="Others">What the tier's other replicas say over SQL, asked before a fence is lifted.</param>
public sealed record SelfFenceView(
    SelfFenceSettings Settings,
    DateTimeOffset Now,
    DateTimeOffset LastContact,
    int Peers,
    SelfFenceRecord? Fence,
    bool? Writable,
    TierAnswer? Tier,
    IReadOnlyList<OtherReplica>? Others = null);

/// <summary>Another replica of the tier as the host's silo sees it over SQL.</summary>
/// <param name="Term">The highest term it carries in <c>controlplane.term_history</c>; null without one.</param>
public sealed record OtherReplica(string Name, bool Answered, bool Writable, long? Term);

public enum SelfFenceVerdict
{
    /// <summary>Nothing to do.</summary>
    None,
    /// <summary>Cut off long enough: find out whether the instance takes writes.</summary>
    CheckInstance,
    /// <summary>Persist the fence, then fence.</summary>
    Fence,
    /// <summary>Fenced, and nothing yet says it may be lifted.</summary>
    StayFenced,
    /// <summary>Back, and the tier's term did not move on with this replica its primary: lift the fence.</summary>
    Unfence,
    /// <summary>Back, but the tier moved on: forget the fence and leave the instance as it is for the tier to rejoin.</summary>
    Release,
}

public sealed record SelfFenceDecision(SelfFenceVerdict Verdict, string Reason);

/// <summary>
/// When a host's silo fences its own primary, and when it lifts that fence. Pure.
///
/// <para><b>Cut off</b> is neither the catalog nor any other silo answering for <see cref="SelfFenceSettings.After"/>.
/// The catalog alone down is not: the other silos cannot vote anyone dead without the membership table, and a
/// catalog outage must not make the whole fleet read-only. A silo that knows no other silo is never cut off: there
/// is no other host that could promote.</para>
///
/// <para><b>Lifting</b> needs the tier's own answer: the same term, and this replica still its primary (a short
/// partition, or one between silos only). Any other answer means another replica was promoted in a later term:
/// the fence stays and the tier rejoins the old primary as a standby. The tier grain that answers may be a stale
/// activation on this very silo (one the cluster already replaced), so the tier's other replicas are asked too,
/// over SQL: a promoted replica carries its new term before any client writes to it. The fence is lifted only when
/// at least one of them answers and none is writable or carries a later term.</para>
/// </summary>
public static class SelfFencePolicy
{
    public static SelfFenceDecision Decide(SelfFenceView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var settings = view.Settings;
        if (view.Fence is { } fence)
        {
            if (view.Tier is not { } tier)
                return new(SelfFenceVerdict.StayFenced, $"fenced in term {Term(fence.Term)}; the tier cannot be asked yet");
            var others = view.Others ?? [];
            if (others.FirstOrDefault(o => o.Answered && (o.Writable || o.Term > (fence.Term ?? 0))) is { } moved)
                return new(SelfFenceVerdict.Release, $"{moved.Name} is {(moved.Writable ? "writable" : "in a later term")} (term {Term(moved.Term)}): the fence stays, the tier rejoins {fence.Replica}");
            if (fence.Term is { } fenced && tier.Term == fenced && tier.Primary == fence.Replica)
            {
                if (others.Count > 0 && !others.Any(o => o.Answered))
                    return new(SelfFenceVerdict.StayFenced, $"the tier says term {tier.Term} with primary {tier.Primary}, but no other replica answers to confirm it");
                return new(SelfFenceVerdict.Unfence, $"back in the cluster and the tier is still in term {tier.Term} with primary {tier.Primary}");
            }
            return new(SelfFenceVerdict.Release, fence.Term is null
                ? $"fenced without a known term; the tier is in term {tier.Term} with primary {tier.Primary}: the fence stays (lift it by hand if {fence.Replica} is that primary)"
                : $"the tier moved from term {fence.Term} to {tier.Term} with primary {tier.Primary}: the fence stays, the tier rejoins {fence.Replica}");
        }
        if (settings.Action == SelfFenceAction.Off) return new(SelfFenceVerdict.None, "self-fencing is off");
        if (view.Peers < 1) return new(SelfFenceVerdict.None, "no other silo in the cluster: no other host could promote");
        var silence = view.Now - view.LastContact;
        if (silence <= settings.After) return new(SelfFenceVerdict.None, "in contact with the cluster");
        var cutOff = $"neither the catalog nor any of {view.Peers} other silo(s) answered for {silence.TotalMilliseconds:0} ms (bound {settings.After.TotalMilliseconds:0} ms)";
        return view.Writable switch
        {
            null => new(SelfFenceVerdict.CheckInstance, cutOff),
            true => new(SelfFenceVerdict.Fence, cutOff),
            false => new(SelfFenceVerdict.None, cutOff + "; the instance takes no writes"),
        };
    }

    private static string Term(long? term) => term?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(unknown)";
}
