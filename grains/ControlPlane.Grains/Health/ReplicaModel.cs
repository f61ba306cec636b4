using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Health;

namespace ControlPlane.Grains.Health;

/// <summary>Where a replica lives and how the control plane reaches it. The password stays in its file.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ReplicaSpec")]
public sealed record ReplicaSpec(
    [property: Id(0)] string Environment,
    [property: Id(1)] string Tier,
    [property: Id(2)] string Name,
    [property: Id(3)] string Host,
    [property: Id(4)] int Port,
    [property: Id(5)] string Database,
    [property: Id(6)] string User,
    [property: Id(7)] string PasswordFile,
    [property: Id(8)] string? DataDirectory,
    [property: Id(9)] string? ReplicatorPasswordFile = null,
    // The database host it runs on (docs/hosts.md); null: the single-host default, local to whichever silo runs it.
    [property: Id(10)] string? HostName = null)
{
    /// <summary>host:port as a standby's WAL receiver names its upstream.</summary>
    public string Address => $"{Host}:{Port}";
}

/// <summary>Role a replica reports for itself.</summary>
[GenerateSerializer, Alias("controlplane.ReplicaRole")]
public enum ReplicaRole
{
    Unknown = 0,
    Primary = 1,
    Standby = 2,
}

/// <summary>
/// What a replica grain last saw of its instance; reported to its tier after every probe.
/// LSNs are raw 64-bit positions (see <see cref="ControlPlane.Postgres.Health.Lsn"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.ReplicaHealth")]
public sealed record ReplicaHealth(
    [property: Id(0)] string Name,
    [property: Id(1)] DateTimeOffset ProbedAt,
    [property: Id(2)] bool Reachable,
    [property: Id(3)] string? Error,
    [property: Id(4)] bool InRecovery,
    [property: Id(5)] int? Timeline,
    [property: Id(6)] ulong? CurrentLsn,
    [property: Id(7)] ulong? ReceiveLsn,
    [property: Id(8)] ulong? ReplayLsn,
    [property: Id(9)] double? ReplayLagSeconds,
    [property: Id(10)] string? WalReceiverStatus,
    [property: Id(11)] int Connections,
    [property: Id(12)] int MaxConnections,
    [property: Id(13)] string? ServerVersion,
    [property: Id(14)] double ProbeLatencyMs,
    [property: Id(15)] int ConsecutiveFailures,
    [property: Id(16)] string? WalReceiverUpstream = null,
    [property: Id(17)] IReadOnlyList<string>? SyncStandbys = null,
    [property: Id(18)] double? WalReceiverLastMessageAgeSeconds = null,
    [property: Id(19)] ulong? LastWritableLsn = null,
    [property: Id(20)] long? InstanceTerm = null,
    [property: Id(21)] string? InstanceTermPrimary = null,
    // Ids from 30 on for the fresh-connection check, leaving room for other appended facts.
    [property: Id(30)] SessionState Session = SessionState.NotChecked,
    [property: Id(31)] string? SessionError = null,
    [property: Id(32)] int ConsecutiveSessionFailures = 0,
    [property: Id(33)] DateTimeOffset? SessionCheckedAt = null,
    [property: Id(34)] double SessionLatencyMs = 0,
    [property: Id(35)] bool? PostmasterAlive = null,
    // On the primary: its physical slots invalidated (wal_status 'lost'), remembered from its last writable probe.
    [property: Id(36)] IReadOnlyList<string>? LostSlots = null,
    // Failure modes (docs/failover.md#failure-modes): the host's statvfs of the data directory and pg_wal (null when
    // not host-local), consecutive disk write checks that failed with 53100 and the last one's error, and the times
    // PostgreSQL restarted the server in place after a crash (same postmaster), newest last.
    [property: Id(37)] long? DiskAvailableBytes = null,
    [property: Id(38)] int DiskFullFailures = 0,
    [property: Id(39)] string? DiskWriteError = null,
    [property: Id(40)] IReadOnlyList<DateTimeOffset>? CrashRestarts = null,
    // The tier's disk_full_below_bytes, as the replica was configured with it.
    [property: Id(41)] long DiskFullBelowBytes = DiskSpace.FullBelowBytes)
{
    /// <summary>The last fresh-connection check found a server that takes no new client (not pressure, not credentials).</summary>
    public bool CannotOpenSession => SessionStates.IsCannotOpen(Session);

    /// <summary>Writes fail with disk_full, or the host sees less than <see cref="DiskFullBelowBytes"/> left.</summary>
    public bool DiskFull => DiskFullFailures > 0 || DiskAvailableBytes < (DiskFullBelowBytes > 0 ? DiskFullBelowBytes : DiskSpace.FullBelowBytes);
}

/// <summary>A replica as its tier presents it: observation plus the tier's verdict.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ReplicaStatus")]
public sealed record ReplicaStatus(
    [property: Id(0)] string Name,
    [property: Id(1)] string Host,
    [property: Id(2)] int Port,
    [property: Id(3)] ReplicaRole Role,
    [property: Id(4)] bool Healthy,
    [property: Id(5)] bool Reachable,
    [property: Id(6)] long LagBytes,
    [property: Id(7)] double LagSeconds,
    [property: Id(8)] int Connections,
    [property: Id(9)] int MaxConnections,
    [property: Id(10)] DateTimeOffset? LastProbeAt,
    [property: Id(11)] int ConsecutiveFailures,
    [property: Id(12)] int? Timeline,
    [property: Id(13)] ulong? CurrentLsn,
    [property: Id(14)] ulong? ReceiveLsn,
    [property: Id(15)] ulong? ReplayLsn,
    [property: Id(16)] string? WalReceiverStatus,
    [property: Id(17)] string? ServerVersion,
    [property: Id(18)] double ProbeLatencyMs,
    [property: Id(19)] string Problem,
    [property: Id(30)] SessionState Session = SessionState.NotChecked,
    [property: Id(31)] string? SessionError = null,
    [property: Id(32)] int ConsecutiveSessionFailures = 0,
    [property: Id(33)] DateTimeOffset? SessionCheckedAt = null,
    [property: Id(34)] double SessionLatencyMs = 0,
    [property: Id(35)] IReadOnlyList<string>? SynchronousStandbys = null);
