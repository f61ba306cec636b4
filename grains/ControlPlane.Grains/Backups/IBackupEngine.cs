using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Fleet;

namespace ControlPlane.Grains.Backups;

/// <summary>
/// What the backup grain needs done on the hosts: the tools (pg_basebackup, pg_verifybackup, pg_receivewal, restore,
/// pg_amcheck, pg_dump) behind one seam, so the grain holds only decisions and state. The silo registers the local
/// implementation; a unit test of pure logic never needs one.
/// </summary>
public interface IBackupEngine
{
    Task<BaseBackupResult> TakeBaseBackupAsync(BaseBackupRequest request, IProgress<BackupProgress>? progress, CancellationToken ct);

    Task<VerifyOutcome> VerifyAsync(string backupDirectory, string scratchRoot, CancellationToken ct);

    /// <summary>Copies a finished backup into the second repository (temp name, then rename).</summary>
    Task CopyBackupAsync(string backupDirectory, string targetDirectory, CancellationToken ct);

    Task DeleteBackupAsync(string backupDirectory, CancellationToken ct);

    /// <summary>Kills orphaned backup processes and removes half-written backups of the repository; answers how many.</summary>
    Task<int> CleanUpInterruptedAsync(TierRepository repository, CancellationToken ct);

    /// <summary>Whether the repository exists, is writable and has room; an empty string when it is usable.</summary>
    string CheckRepository(string root);

    Task<RestoredInstance> RestoreAsync(RestoreRequest request, IProgress<BackupProgress>? progress, CancellationToken ct);

    Task DestroyAsync(string dataDirectory, CancellationToken ct);

    Task<ConsistentCountsResult> CaptureCountsAsync(ReplicaEndpoint primary, string restorePoint, CancellationToken ct);

    Task<ulong> CreateRestorePointAsync(ReplicaEndpoint primary, string name, CancellationToken ct);

    Task<IReadOnlyList<DrillCheck>> RunDrillChecksAsync(ReplicaEndpoint restored, IReadOnlyList<TableCount> expected, CancellationToken ct);

    Task<TenantExportResult> ExportTenantAsync(ReplicaEndpoint primary, string tenant, string file, CancellationToken ct);

    Task<IReadOnlyList<TableCount>> ImportTenantAsync(ReplicaEndpoint primary, string tenant, string file, bool replace, CancellationToken ct);

    /// <summary>Drops the replication slot a released replica used on the primary; false when it stayed active.</summary>
    Task<bool> DropSlotAsync(ReplicaEndpoint primary, string slotName, CancellationToken ct);

    /// <summary>The gaps recorded in the repository's WAL archive (<see cref="WalGapLog"/>), oldest first.</summary>
    IReadOnlyList<WalGap> ReadWalGaps(TierRepository repository);

    /// <summary>A WAL archiver for one tier (not started until followed).</summary>
    IWalArchive OpenArchive(TierRepository repository, TierRepository? mirror);
}

/// <summary>pg_verifybackup's verdict on a backup.</summary>
public sealed record VerifyOutcome(bool Passed, string Detail, TimeSpan Duration);

/// <summary>The continuous WAL archive of one tier: a supervised pg_receivewal following the primary.</summary>
public interface IWalArchive : IAsyncDisposable
{
    Task FollowAsync(ReplicationSource primary, CancellationToken ct);

    Task StopAsync();

    WalArchiverStatus Status { get; }

    Task<ArchiveSample> SampleAsync(CancellationToken ct);

    /// <summary>Copies what the second repository lacks; answers files copied.</summary>
    Task<int> MirrorAsync(CancellationToken ct);

    /// <summary>Deletes, in both repositories, WAL older than the segment holding <paramref name="lsn"/>.</summary>
    Task<(int Files, long Bytes)> DeleteBeforeAsync(ulong lsn, CancellationToken ct);
}
