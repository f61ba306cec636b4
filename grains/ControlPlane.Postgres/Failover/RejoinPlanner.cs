namespace ControlPlane.Postgres.Failover;

/// <summary>How an old primary (or a stopped standby) becomes a standby of a new primary.</summary>
public enum RejoinPath
{
    /// <summary>Its WAL is a prefix of the new primary's history: start it with standby.signal, nothing to undo.</summary>
    StartAsStandby,

    /// <summary>It may have WAL the new primary never got: pg_rewind it to the new primary first.</summary>
    Rewind,

    /// <summary>pg_rewind failed: a fresh base backup from the new primary (the old data is kept aside until it succeeds).</summary>
    BaseBackup,
}

/// <summary>The path chosen and why, in words an operator reads in the log.</summary>
public sealed record RejoinDecision(RejoinPath Path, string Reason);

/// <summary>What a rejoin did: the path actually taken (a failed rewind ends as a base backup), why, how long it took,
/// and the divergent WAL it saved first (null when the instance held none past the fork).</summary>
public sealed record RejoinReport(RejoinPath Path, string Reason, TimeSpan Elapsed, DivergentWal? Divergence = null);

/// <summary>
/// Chooses the rejoin path from the target's control file and the new primary's timeline. Pure, so it is
/// unit-tested. Only a primary that shut down cleanly knows where its WAL ends (right after its shutdown
/// checkpoint); if that checkpoint lies before the point where the new primary's history left the target's
/// timeline, the target has nothing the new primary lacks and can simply follow it. Anything else (a crash,
/// a checkpoint past the fork, a timeline not in the new primary's history, a standby whose received WAL is
/// unknown) goes through pg_rewind, which itself says "no rewind required" when that is the case.
/// </summary>
public static class RejoinPlanner
{
    public static RejoinDecision Choose(ControlData target, SourceTimeline source)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(source);
        // A standby writes no WAL of its own: on the new primary's timeline, or on an older one it left no later than
        // the fork, it holds a prefix of that history and only needs restarting. Rewinding it instead runs single-user
        // crash recovery, which leaves it unable to stream.
        if (target.State is "in archive recovery" or "shut down in recovery")
        {
            if (target.CheckpointTimeline == source.Timeline || target.MinRecoveryEndTimeline == source.Timeline)
            {
                return new(RejoinPath.StartAsStandby, $"it was a standby ('{target.State}') on timeline {source.Timeline}, the new primary's own timeline");
            }
            var reached = target.MinRecoveryEnd > target.CheckpointLsn ? target.MinRecoveryEnd : target.CheckpointLsn;
            var left = source.History.LastOrDefault(e => e.Timeline == target.CheckpointTimeline);
            if (left is not null && reached <= left.SwitchPoint)
            {
                return new(RejoinPath.StartAsStandby,
                    $"it was a standby that replayed up to {reached} on timeline {target.CheckpointTimeline}, not past the fork at {left.SwitchPoint}");
            }
        }
        if (!target.IsCleanPrimaryShutdown)
        {
            return new(RejoinPath.Rewind, $"its control file says '{target.State}', not a clean primary shutdown, so where its WAL ends is unknown");
        }
        var checkpoint = target.CheckpointLsn;
        var tli = target.CheckpointTimeline;
        if (tli == source.Timeline)
        {
            return checkpoint < source.CurrentLsn
                ? new(RejoinPath.StartAsStandby, $"shut down cleanly at {checkpoint} on timeline {tli}, behind the new primary at {source.CurrentLsn} on the same timeline")
                : new(RejoinPath.Rewind, $"shut down at {checkpoint} on timeline {tli}, not behind the new primary at {source.CurrentLsn}");
        }
        var fork = source.History.LastOrDefault(e => e.Timeline == tli);
        if (fork is null)
        {
            return new(RejoinPath.Rewind, $"its timeline {tli} is not in the history of the new primary's timeline {source.Timeline}");
        }
        return checkpoint < fork.SwitchPoint
            ? new(RejoinPath.StartAsStandby, $"shut down cleanly at {checkpoint} on timeline {tli}, before the new primary left that timeline at {fork.SwitchPoint}")
            : new(RejoinPath.Rewind, $"its shutdown checkpoint {checkpoint} on timeline {tli} is at or past the fork at {fork.SwitchPoint}");
    }
}
