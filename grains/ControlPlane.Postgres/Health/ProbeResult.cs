namespace ControlPlane.Postgres.Health;

/// <summary>What one probe of one instance saw. Unreachable probes carry only <see cref="Error"/>.</summary>
/// <param name="WalReceiverLastMessageAgeSeconds">On a standby, seconds since its WAL receiver last heard from the
/// upstream (<c>pg_stat_wal_receiver.last_msg_receipt_time</c>); null without a WAL receiver. A live primary sends
/// at least every second or so (<c>wal_receiver_timeout</c> / 2 pings), so a growing age means a silent upstream.</param>
/// <param name="Term">The highest term the instance carries in <c>controlplane.term_history</c>; null without one.</param>
public sealed record ProbeResult(
    DateTimeOffset At,
    bool Reachable,
    TimeSpan Latency,
    string? Error,
    bool InRecovery,
    int? Timeline,
    Lsn? CurrentLsn,
    Lsn? ReceiveLsn,
    Lsn? ReplayLsn,
    double? ReplayLagSeconds,
    string? WalReceiverStatus,
    string? WalReceiverUpstream,
    int Connections,
    int MaxConnections,
    string? ServerVersion,
    IReadOnlyList<ReplicationPeer> Replication,
    double? WalReceiverLastMessageAgeSeconds = null,
    ControlPlane.Postgres.Failover.TermMark? Term = null)
{
    /// <summary>A failed probe: the instance did not answer in time, refused, or errored.</summary>
    public static ProbeResult Unreachable(DateTimeOffset at, TimeSpan latency, string error) =>
        new(at, false, latency, error, false, null, null, null, null, null, null, null, 0, 0, null, []);

    /// <summary>The fresh-connection check that ran beside this probe (<see cref="SessionProbe"/>), if one did.</summary>
    public SessionCheck Session { get; init; } = SessionCheck.NotChecked;

    /// <summary>On a primary, its physical replication slots whose <c>wal_status</c> is <c>lost</c>: the WAL their
    /// standby needs was removed, so that standby can only be rebuilt.</summary>
    public IReadOnlyList<string> LostSlots { get; init; } = [];

    /// <summary><c>pg_postmaster_start_time()</c>: changes only when a new postmaster starts.</summary>
    public DateTimeOffset? PostmasterStartedAt { get; init; }

    /// <summary>When the server's processes last started: the checkpointer's <c>backend_start</c>. PostgreSQL's own
    /// crash restart (<c>restart_after_crash</c>: a backend died, or the server PANICked) starts them anew under the
    /// same postmaster, so a change of this with <see cref="PostmasterStartedAt"/> unchanged is one crash.</summary>
    public DateTimeOffset? ServerStartedAt { get; init; }

    /// <summary>The server's <c>synchronous_standby_names</c>: empty when its commits wait for no standby.</summary>
    public string SynchronousStandbyNames { get; init; } = "";
}

/// <summary>One row of <c>pg_stat_replication</c> on a primary.</summary>
public sealed record ReplicationPeer(string ApplicationName, string State, string SyncState, Lsn? SentLsn, Lsn? ReplayLsn);
