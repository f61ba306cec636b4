namespace ControlPlane.Grains.Failover;

/// <summary>What the tier knows when it keeps its primary's synchronous standbys.</summary>
/// <param name="Standbys">Every standby of the tier (the primary excluded).</param>
/// <param name="Streaming">The standbys healthy and streaming now: the ones that can confirm a commit.</param>
/// <param name="LostSince">When the tier first saw no standby able to confirm a commit (persisted); null while one can.</param>
public sealed record SynchronousFacts(
    SynchronousMode Mode,
    TimeSpan DegradeAfter,
    string Primary,
    IReadOnlyList<string> Standbys,
    IReadOnlyList<string> Streaming,
    DateTimeOffset? LostSince,
    DateTimeOffset Now);

/// <summary>Where a tier in synchronous mode stands.</summary>
public enum SynchronousState
{
    /// <summary>Asynchronous by setting, or a standby confirms every commit.</summary>
    Protected,
    /// <summary>No standby confirms commits: they wait (strict, or on before <see cref="FailoverSettings.SynchronousDegradeAfter"/>).</summary>
    Waiting,
    /// <summary>No standby confirms commits and the tier went asynchronous (on, after the delay): writes go on unprotected.</summary>
    Degraded,
}

/// <summary>The policy's answer: the value to set, the loss clock to persist, and what to alert about.</summary>
/// <param name="Lost">The standbys whose loss left commits without a confirmation (every standby, when lost).</param>
public sealed record SynchronousPlan(string Names, SynchronousState State, DateTimeOffset? LostSince, IReadOnlyList<string> Lost, string? Alert);

/// <summary>
/// A synchronous standby lost in synchronous mode (issue 21, mode 4). Pure.
///
/// <para>In synchronous mode the primary's <c>synchronous_standby_names</c> is <c>ANY 1</c> of the streaming standbys:
/// a commit returns once one of them has flushed it. When none streams (their host gone, frozen, killed), every commit
/// waits, for ever, with nothing in PostgreSQL telling anyone. Two documented policies, chosen per tier:
/// <see cref="SynchronousMode.Strict"/> keeps every standby listed so commits wait (no acknowledged write can be lost)
/// and alerts at once, naming the lost standbys; <see cref="SynchronousMode.On"/> alerts at once too, lets commits wait
/// for <see cref="FailoverSettings.SynchronousDegradeAfter"/>, then empties the list so writes go on asynchronously
/// (Patroni's non-strict mode), and lists the standbys again as soon as one streams. The clock starts when the tier
/// first sees no standby streaming and is persisted, so a new activation of the tier does not restart it.</para>
/// </summary>
public static class SynchronousStandbyPolicy
{
    public static SynchronousPlan Plan(SynchronousFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var standbys = facts.Standbys.Where(s => s != facts.Primary).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var streaming = facts.Streaming.Where(standbys.Contains).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (facts.Mode == SynchronousMode.Off || standbys.Count == 0)
        {
            // Nothing to wait for: no standby exists, or asynchronous replication was asked for.
            return new SynchronousPlan("", SynchronousState.Protected, null, [], null);
        }
        if (streaming.Count > 0) return new SynchronousPlan(Any(streaming), SynchronousState.Protected, null, [], null);

        var since = facts.LostSince ?? facts.Now;
        var lost = string.Join(", ", standbys);
        if (facts.Mode == SynchronousMode.Strict)
        {
            return new SynchronousPlan(Any(standbys), SynchronousState.Waiting, since, standbys,
                $"synchronous standby lost: none of {lost} streams from primary {facts.Primary}; commits on {facts.Primary} wait "
                + "(synchronous_mode strict: no acknowledged write is lost) until one streams again");
        }
        var waited = facts.Now - since;
        if (waited < facts.DegradeAfter)
        {
            return new SynchronousPlan(Any(standbys), SynchronousState.Waiting, since, standbys,
                $"synchronous standby lost: none of {lost} streams from primary {facts.Primary}; commits on {facts.Primary} wait, "
                + $"asynchronous after synchronous_degrade_after {Seconds(facts.DegradeAfter)} unless one streams again");
        }
        return new SynchronousPlan("", SynchronousState.Degraded, since, standbys,
            $"synchronous standby lost: none of {lost} streams from primary {facts.Primary}; degraded to asynchronous after "
            + $"{Seconds(facts.DegradeAfter)} (synchronous_mode on): commits on {facts.Primary} are not on any standby until one streams again");
    }

    private static string Any(IReadOnlyList<string> names) => $"ANY 1 ({string.Join(", ", names.Select(n => "\"" + n + "\""))})";

    private static string Seconds(TimeSpan t) => $"{t.TotalSeconds:0.###} s";
}
