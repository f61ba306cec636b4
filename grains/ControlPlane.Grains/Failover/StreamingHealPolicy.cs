using ControlPlane.Grains.Health;

namespace ControlPlane.Grains.Failover;

/// <summary>How a standby that answers but does not stream is healed.</summary>
public enum StreamingHealAction
{
    /// <summary>Rejoin it (stop, rewind if its control file says so, restart with standby.signal and the upstream).</summary>
    Rejoin,
    /// <summary>A rejoin did not make it stream: a fresh base backup of the primary.</summary>
    Rebuild,
}

/// <summary>Since when a standby has been seen answering, in recovery, not streaming from <paramref name="Primary"/> and
/// replaying nothing past <paramref name="ReplayLsn"/>. Kept in memory only: a new activation starts the clock afresh,
/// which only delays a heal.</summary>
public sealed record NotStreamingClock(string Primary, DateTimeOffset Since, ulong? ReplayLsn = null);

/// <summary>What the tier knows of one standby when it asks whether to heal it for not streaming.</summary>
/// <param name="Clock">Since when it has been answering and not streaming from the primary (<see cref="StreamingHealPolicy.Track"/>).</param>
/// <param name="Heals">Heals for not streaming since it last streamed: the first rejoins, later ones rebuild.</param>
/// <param name="LastRejoinAt">When the tier last rejoined or rebuilt it, for whatever reason.</param>
/// <param name="Broken">Its slot is lost: the broken-standby rule rebuilds it, this one stays out.</param>
public sealed record StreamingFacts(
    string Standby,
    string Primary,
    ReplicaHealth? Health,
    NotStreamingClock? Clock,
    int Heals,
    DateTimeOffset? LastRejoinAt,
    bool Broken,
    bool Paused,
    TimeSpan HealAfter,
    TimeSpan Grace,
    DateTimeOffset Now);

/// <summary>The heal to carry out, the reason (the decision's) and the evidence.</summary>
public sealed record StreamingHeal(StreamingHealAction Action, string Reason, IReadOnlyList<string> Evidence);

/// <summary>
/// A standby that answers and is in recovery but whose WAL receiver does not stream from the primary — not running
/// (a wrong or unreachable primary_conninfo), stuck starting or waiting (its WAL went past the primary's history,
/// e.g. a directory started as a primary after an interrupted rejoin), or streaming from somewhere else — falls
/// further behind forever and is never promoted; no other rule sees it, since it answers and has its slot. After
/// <see cref="FailoverSettings.NotStreamingHealAfter"/> of that, it is rejoined (pg_rewind when its control file
/// needs it); if it still does not stream after that, it is rebuilt. A receiver that streams (catching up or not)
/// resets the clock; so does replay that moved on since the clock started (WAL restored from the archive: catching
/// up, not stuck), and any probe that does not find it answering in recovery (a restart starts afresh); a rejoin is
/// given <see cref="StreamingFacts.Grace"/> to take effect. Pure.
/// </summary>
public static class StreamingHealPolicy
{
    /// <summary>WAL receiver states in which WAL arrives: caught up or catching up.</summary>
    private static readonly string[] Receiving = ["streaming", "catchup"];

    /// <summary>Whether the standby's WAL receiver streams from <paramref name="primaryAddress"/> (an unknown
    /// sender counts as the primary: only a sender known to be another one is wrong).</summary>
    public static bool StreamsFrom(ReplicaHealth h, string primaryAddress)
    {
        ArgumentNullException.ThrowIfNull(h);
        return h.WalReceiverStatus is { } status && Receiving.Contains(status, StringComparer.Ordinal)
            && (h.WalReceiverUpstream is null || h.WalReceiverUpstream == primaryAddress);
    }

    /// <summary>
    /// The clock after the standby's latest probe: unchanged while it keeps answering in recovery without streaming
    /// from the same primary and without replaying further, started at this probe when it newly does (or replayed
    /// further: it gets WAL from somewhere), null (reset) otherwise, or when the probe is older than
    /// <paramref name="staleAfter"/>.
    /// </summary>
    public static NotStreamingClock? Track(NotStreamingClock? clock, ReplicaHealth? standby, string primary, string primaryAddress,
        DateTimeOffset now, TimeSpan staleAfter)
    {
        if (standby is not { Reachable: true, InRecovery: true } || now - standby.ProbedAt > staleAfter) return null;
        if (StreamsFrom(standby, primaryAddress)) return null;
        return clock is not null && clock.Primary == primary && !(standby.ReplayLsn > clock.ReplayLsn)
            ? clock
            : new NotStreamingClock(primary, standby.ProbedAt, standby.ReplayLsn);
    }

    /// <summary>The heal due now, or null.</summary>
    public static StreamingHeal? Decide(StreamingFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        // A rejoin stops the standby, and a rebuild deletes its data directory: neither during a maintenance pause.
        if (facts.Paused || facts.Broken || facts.Health is not { } h || facts.Clock is not { } clock || clock.Primary != facts.Primary) return null;
        var notStreaming = facts.Now - clock.Since;
        if (notStreaming < facts.HealAfter) return null;
        if (facts.LastRejoinAt is { } at && facts.Now - at < facts.Grace) return null;
        var seconds = (long)notStreaming.TotalSeconds;
        var evidence = new List<string>
        {
            h.WalReceiverStatus is null
                ? $"{facts.Standby} answers in recovery but runs no WAL receiver"
                : $"{facts.Standby}'s WAL receiver is {h.WalReceiverStatus}" + (h.WalReceiverUpstream is { } up ? $" from {up}" : ""),
            $"not streaming from {facts.Primary} since {clock.Since:O} ({seconds} s; not_streaming_heal_after {(long)facts.HealAfter.TotalSeconds} s)",
        };
        if (h.ReplayLsn is { } replay) evidence.Add($"{facts.Standby} replayed up to {new ControlPlane.Postgres.Health.Lsn(replay)}");
        var head = $"standby {facts.Standby} reachable but not streaming from primary {facts.Primary} for {seconds} s";
        if (facts.Heals == 0) return new StreamingHeal(StreamingHealAction.Rejoin, $"{head}: rejoining it", evidence);
        evidence.Add($"{facts.Heals} rejoin(s) since it last streamed did not make it stream");
        return new StreamingHeal(StreamingHealAction.Rebuild, $"{head}: rebuilding it from a fresh base backup of {facts.Primary}", evidence);
    }
}
