using ControlPlane.Postgres.Fleet;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// Where one tier's backups live in one repository (a directory; the second repository stands for another region):
/// <c>&lt;root&gt;/&lt;env&gt;/&lt;tier&gt;/base/&lt;backup id&gt;/</c> (tar archives, <c>backup_manifest</c>),
/// <c>wal/</c> (segments, <c>.partial</c>, timeline history files, as <c>pg_receivewal</c> writes them) and
/// <c>exports/&lt;tenant&gt;/</c> (logical tenant exports).
/// </summary>
public sealed record TierRepository(string Root, string Environment, string Tier)
{
    public string TierDirectory => Path.Combine(Path.GetFullPath(Root), Environment, Tier);
    public string BaseDirectory => Path.Combine(TierDirectory, "base");
    public string WalDirectory => Path.Combine(TierDirectory, "wal");
    public string ExportDirectory => Path.Combine(TierDirectory, "exports");
    public string BackupDirectory(string backupId) => Path.Combine(BaseDirectory, backupId);
}

/// <summary>An instance reached over the replication protocol as the <c>replicator</c> role.</summary>
/// <param name="Endpoint">Host, port and name of the instance (its superuser fields are not used for replication).</param>
/// <param name="ReplicatorPasswordFile">File holding the replicator's password (never put on a command line).</param>
public sealed record ReplicationSource(ReplicaEndpoint Endpoint, string ReplicatorPasswordFile);

/// <summary>How far a long backup-side job has come; <see cref="TotalBytes"/> is 0 when unknown.</summary>
public sealed record BackupProgress(string Phase, long DoneBytes, long TotalBytes, string? Detail = null);

/// <summary>A base backup to take. Compression is one of <c>lz4</c>, <c>zstd</c>, <c>gzip</c>, <c>none</c> (client side).</summary>
public sealed record BaseBackupRequest(string BackupId, ReplicationSource Source, TierRepository Repository)
{
    public string Compression { get; init; } = "lz4";
    /// <summary>pg_basebackup's --max-rate in kB/s (null: unlimited), so a backup does not starve the source's I/O.</summary>
    public int? MaxRateKbps { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(6);
}

/// <summary>A finished base backup, read back from its manifest.</summary>
public sealed record BaseBackupResult(
    string BackupId,
    string Directory,
    int Timeline,
    ulong StartLsn,
    ulong StopLsn,
    long Bytes,
    TimeSpan Duration,
    string Compression);

public enum RecoveryTargetKind
{
    /// <summary>Everything the WAL repository holds.</summary>
    Latest = 0,
    /// <summary>The base backup's own consistent point.</summary>
    Immediate = 1,
    Time = 2,
    Lsn = 3,
    RestorePoint = 4,
}

/// <summary>Where recovery stops. Exactly the field of its kind is set.</summary>
public sealed record RecoveryTarget(RecoveryTargetKind Kind, DateTimeOffset? Time = null, ulong? Lsn = null, string? Name = null)
{
    public static RecoveryTarget Latest { get; } = new(RecoveryTargetKind.Latest);
    public static RecoveryTarget Immediate { get; } = new(RecoveryTargetKind.Immediate);
}

/// <summary>
/// A restore of one base backup plus archived WAL into a new data directory on this host.
/// <paramref name="Credentials"/> supplies the superuser name, password file and database of the backed-up tier
/// (the restored instance keeps the tier's roles). <paramref name="StandbyOf"/> set: the instance is left a streaming
/// standby of that primary instead of being promoted.
/// </summary>
public sealed record RestoreRequest(
    string BackupDirectory,
    string WalDirectory,
    string TargetDataDirectory,
    int Port,
    ReplicaEndpoint Credentials,
    RecoveryTarget Target,
    ReplicationSource? StandbyOf = null)
{
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(6);
}

/// <summary>A running restored instance.</summary>
public sealed record RestoredInstance(string DataDirectory, ReplicaEndpoint Endpoint, int Timeline, ulong ReachedLsn, TimeSpan Duration);

/// <summary>Row count of one table, as recorded when a backup finished and as found in a restore of it.</summary>
public sealed record TableCount(string Database, string Table, long Rows);

/// <summary>Counts taken in one snapshot that is exactly the state at the named restore point.</summary>
public sealed record ConsistentCountsResult(string RestorePoint, ulong RestorePointLsn, IReadOnlyList<TableCount> Counts);

/// <summary>One sanity check of a restore drill.</summary>
public sealed record DrillCheck(string Name, bool Passed, string Detail);

/// <summary>What the WAL archive of a tier looks like right now, measured against its primary.</summary>
/// <param name="PrimaryLsn">The primary's current WAL write position.</param>
/// <param name="StoredLsn">The newest WAL position the archiver reported flushed to disk (null: not streaming).</param>
/// <param name="FlushLag">The primary's own measure of how long WAL took to be flushed by the archiver (null when idle).</param>
public sealed record ArchiveSample(DateTimeOffset At, ulong PrimaryLsn, ulong? StoredLsn, TimeSpan? FlushLag, int PrimaryTimeline);

/// <summary>How the archiver process is doing.</summary>
public sealed record WalArchiverStatus(
    string? Server,
    bool Running,
    int Restarts,
    DateTimeOffset? StartedAt,
    string? LastError,
    string? NewestSegment)
{
    /// <summary>WAL the archive never received (<see cref="WalGapLog"/>), oldest first.</summary>
    public IReadOnlyList<WalGap> Gaps { get; init; } = [];
}

/// <summary>A logical export of one tenant.</summary>
public sealed record TenantExportResult(string File, long Bytes, TimeSpan Duration, IReadOnlyList<TableCount> Counts);
