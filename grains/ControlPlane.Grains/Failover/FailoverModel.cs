using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Health;

namespace ControlPlane.Grains.Failover;

/// <summary>What the tier knows of one replica when it decides. Built from the replicas' latest reports.</summary>
/// <param name="Fresh">The replica reported recently enough to be believed.</param>
/// <param name="StreamingFromPrimary">A standby whose WAL receiver is streaming from the tier's primary right now.</param>
/// <param name="LastKnownSynchronous">The primary last listed this standby as sync or quorum.</param>
/// <param name="Session">The last fresh-connection check of the replica.</param>
/// <param name="SessionFailures">Consecutive fresh-connection checks that opened no session (pressure and credentials excluded).</param>
/// <param name="PostmasterAlive">What the host-local driver saw of the postmaster after a failed probe; null when unknown.</param>
/// <param name="ReplayLagSeconds">Seconds of transactions received but not replayed (the probe's replay lag).</param>
/// <param name="Broken">Why the standby is broken beyond streaming (<see cref="BrokenStandby"/>); null when it is not.</param>
/// <param name="DiskAvailableBytes">Bytes its host has left for it (data directory and pg_wal); null when unknown.</param>
/// <param name="DiskFullFailures">Consecutive disk write checks that failed with disk_full (53100).</param>
/// <param name="DiskWriteError">The last failed disk write check's error.</param>
/// <param name="RecentCrashes">In-place crash restarts by PostgreSQL within the tier's crash-loop window.</param>
public sealed record ReplicaFacts(
    string Name,
    bool Reachable,
    bool Fresh,
    int ConsecutiveFailures,
    bool InRecovery,
    ulong? ReceiveLsn,
    ulong? ReplayLsn,
    bool StreamingFromPrimary,
    bool LastKnownSynchronous,
    int Priority,
    SessionState Session = SessionState.NotChecked,
    int SessionFailures = 0,
    bool? PostmasterAlive = null,
    double? ReplayLagSeconds = null,
    string? Broken = null,
    long? DiskAvailableBytes = null,
    int DiskFullFailures = 0,
    string? DiskWriteError = null,
    int RecentCrashes = 0)
{
    /// <summary>How far this replica has WAL: what it received, else what it replayed.</summary>
    public ulong Position => Math.Max(ReceiveLsn ?? 0, ReplayLsn ?? 0);

    public bool Answering => Reachable && Fresh;
}

/// <summary>Everything the policy needs, and nothing it could fetch for itself.</summary>
/// <param name="PrimaryLastLsn">The primary's current LSN in its last successful probe.</param>
public sealed record FailoverView(
    FailoverSettings Settings,
    bool Paused,
    long Term,
    string Primary,
    ulong? PrimaryLastLsn,
    IReadOnlyList<ReplicaFacts> Replicas,
    VantageVerdict? Vantage = null);

public enum FailoverVerdict
{
    /// <summary>The primary answers: nothing to do.</summary>
    PrimaryHealthy,
    /// <summary>The primary misses probes but fewer than the threshold.</summary>
    Suspect,
    /// <summary>Automatic decisions are off (paused or disabled); the primary is failed.</summary>
    Suspended,
    /// <summary>No replica answers: the control plane itself is probably cut off. Alert, do not act.</summary>
    Blind,
    /// <summary>Standbys still stream from the primary: it is alive, only we cannot reach it. Alert, do not act.</summary>
    PrimaryAliveToStandbys,
    /// <summary>The primary lives but refuses new sessions for a reason a new primary would share: every connection
    /// slot taken (53300, pool pressure) or the control plane's credentials refused. Alert, do not act.</summary>
    SessionsRefused,
    /// <summary>The primary is failed and no standby may be promoted. Alert.</summary>
    NoCandidate,
    /// <summary>Promote <see cref="FailoverDecision.Candidate"/>.</summary>
    Promote,
    /// <summary>The tier cannot reach the primary but most vantage points (silos on other hosts) have not confirmed
    /// it failed (<see cref="VantagePolicy"/>). Alert, do not act.</summary>
    Unconfirmed,
}

/// <summary>The policy's answer, with the evidence that led to it (kept in the decision log).</summary>
public sealed record FailoverDecision(FailoverVerdict Verdict, string Reason, string? Candidate, IReadOnlyList<string> Evidence)
{
    public bool IsAlert => Verdict is FailoverVerdict.Blind or FailoverVerdict.PrimaryAliveToStandbys or FailoverVerdict.NoCandidate
        or FailoverVerdict.SessionsRefused or FailoverVerdict.Unconfirmed;
}

/// <summary>The outcome of an election: a candidate, or why there is none.</summary>
public sealed record Election(string? Candidate, string Reason, IReadOnlyList<string> Evidence);
