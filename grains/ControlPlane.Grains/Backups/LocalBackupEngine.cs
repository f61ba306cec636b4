using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Fleet;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Grains.Backups;

/// <summary>
/// The backup engine of instances on this host: PostgreSQL's own tools (pg_basebackup, pg_verifybackup,
/// pg_receivewal, pg_amcheck, pg_dump, pg_restore) run by the Postgres layer, with repositories as local directories.
/// </summary>
public sealed class LocalBackupEngine(IOptions<BackupOptions> options, ILoggerFactory loggers) : IBackupEngine
{
    /// <summary>Below this much free space a repository is reported unusable rather than left to fill up mid-backup.</summary>
    private const long MinimumFreeBytes = 64L * 1024 * 1024;

    private readonly ILogger _logger = loggers.CreateLogger<LocalBackupEngine>();

    public Task<BaseBackupResult> TakeBaseBackupAsync(BaseBackupRequest request, IProgress<BackupProgress>? progress, CancellationToken ct) =>
        new BaseBackupRunner(_logger).TakeAsync(request, progress, ct);

    public async Task<VerifyOutcome> VerifyAsync(string backupDirectory, string scratchRoot, CancellationToken ct)
    {
        var result = await new BackupVerifier(_logger).VerifyAsync(backupDirectory, scratchRoot, ct);
        return new VerifyOutcome(result.Passed, result.Detail, result.Duration);
    }

    public Task CopyBackupAsync(string backupDirectory, string targetDirectory, CancellationToken ct) =>
        RepositoryCopy.CopyDirectoryAsync(backupDirectory, targetDirectory, ct);

    public Task DeleteBackupAsync(string backupDirectory, CancellationToken ct) => BaseBackupRunner.DeleteAsync(backupDirectory, _logger, ct);

    public Task<int> CleanUpInterruptedAsync(TierRepository repository, CancellationToken ct) =>
        BaseBackupRunner.CleanUpInterruptedAsync(repository, _logger, ct);

    public string CheckRepository(string root)
    {
        if (string.IsNullOrEmpty(root)) return "no repository is configured";
        try
        {
            Directory.CreateDirectory(root);
            var probe = Path.Combine(root, $".write-probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
            var free = new DriveInfo(Path.GetFullPath(root)).AvailableFreeSpace;
            return free < MinimumFreeBytes ? $"repository {root} is full ({free / (1024 * 1024)} MiB free)" : "";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return $"repository {root} is not usable: {ex.Message}";
        }
    }

    public Task<RestoredInstance> RestoreAsync(RestoreRequest request, IProgress<BackupProgress>? progress, CancellationToken ct) =>
        new RestoreRunner(_logger).RestoreAsync(request, progress, ct);

    public Task DestroyAsync(string dataDirectory, CancellationToken ct) => new RestoreRunner(_logger).DestroyAsync(dataDirectory, ct);

    public Task<ConsistentCountsResult> CaptureCountsAsync(ReplicaEndpoint primary, string restorePoint, CancellationToken ct) =>
        ConsistentCounts.CaptureAsync(primary, restorePoint, options.Value.CountedTablesPerDatabase, options.Value.CountLockTimeout, ct);

    public Task<ulong> CreateRestorePointAsync(ReplicaEndpoint primary, string name, CancellationToken ct) =>
        RestorePoints.CreateAsync(primary, name, ct);

    public Task<IReadOnlyList<DrillCheck>> RunDrillChecksAsync(ReplicaEndpoint restored, IReadOnlyList<TableCount> expected, CancellationToken ct) =>
        DrillChecks.RunAsync(restored, expected, null, ct);

    public Task<TenantExportResult> ExportTenantAsync(ReplicaEndpoint primary, string tenant, string file, CancellationToken ct) =>
        new TenantDump(_logger).ExportAsync(primary, tenant, file, ct);

    public async Task<IReadOnlyList<TableCount>> ImportTenantAsync(ReplicaEndpoint primary, string tenant, string file, bool replace, CancellationToken ct) =>
        (await new TenantDump(_logger).ImportAsync(primary, tenant, file, replace, ct)).Counts;

    public Task<bool> DropSlotAsync(ReplicaEndpoint primary, string slotName, CancellationToken ct) =>
        Postgres.Failover.SqlFailoverOps.DropSlotAsync(primary, slotName, TimeSpan.FromSeconds(10), ct);

    public IReadOnlyList<WalGap> ReadWalGaps(TierRepository repository) => WalGapLog.Read(repository);

    public IWalArchive OpenArchive(TierRepository repository, TierRepository? mirror) =>
        new LocalWalArchive(new WalArchiver(new WalArchiverOptions(repository, mirror), loggers.CreateLogger<WalArchiver>()));

    /// <summary>The archiver behind the grain's seam.</summary>
    private sealed class LocalWalArchive(WalArchiver archiver) : IWalArchive
    {
        public Task FollowAsync(ReplicationSource primary, CancellationToken ct) => archiver.FollowAsync(primary, ct);

        public Task StopAsync() => archiver.StopAsync(CancellationToken.None);

        public WalArchiverStatus Status => archiver.Status;

        public Task<ArchiveSample> SampleAsync(CancellationToken ct) => archiver.SampleAsync(ct);

        public Task<int> MirrorAsync(CancellationToken ct) => archiver.MirrorAsync(ct);

        public async Task<(int Files, long Bytes)> DeleteBeforeAsync(ulong lsn, CancellationToken ct)
        {
            var cleanup = await archiver.DeleteBeforeAsync(lsn, ct);
            return (cleanup.Files, cleanup.Bytes);
        }

        public ValueTask DisposeAsync() => archiver.DisposeAsync();
    }
}
