using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;

namespace ControlPlane.Silo.Catalog;

/// <summary>A base backup of the catalog: running, or how it ended.</summary>
public sealed record CatalogBackupAttempt(string Id, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt = null, string? Error = null)
{
    public bool Running => FinishedAt is null;
}

/// <summary>
/// One base backup of the catalog and the retention after it, with the tier machinery: <see cref="BaseBackupRunner"/>
/// (pg_basebackup as the replicator, into <c>&lt;id&gt;.partial</c>, renamed when complete), <see cref="BackupVerifier"/>
/// (a backup that does not verify is deleted, never offered for restore), then the newest
/// <see cref="CatalogBackupOptions.KeepLast"/> kept and the WAL only older ones needed deleted.
/// </summary>
internal sealed class CatalogBackupJob(CatalogBackupRepository repository, ReplicationSource source, CatalogBackupOptions settings, string scratchRoot, ILogger logger)
{
    public async Task<CatalogBackupEntry> RunAsync(string id, WalArchiver? archiver, CancellationToken ct)
    {
        var request = new BaseBackupRequest(id, source, repository.Repository) { Compression = settings.Compression, Timeout = TimeSpan.FromHours(1) };
        var result = await new BaseBackupRunner(logger).TakeAsync(request, progress: null, ct);
        Directory.CreateDirectory(scratchRoot);
        await OsUser.GiveToPostgresAsync(scratchRoot, recursive: false, ct);
        var verified = await new BackupVerifier(logger).VerifyAsync(result.Directory, scratchRoot, ct);
        if (!verified.Passed)
        {
            await BaseBackupRunner.DeleteAsync(result.Directory, logger, ct);
            throw new InvalidDataException($"catalog backup {id} failed verification and was deleted: {verified.Detail}");
        }
        logger.LogInformation("Catalog backup {Id}: {Bytes} bytes, timeline {Timeline}, WAL {Start} to {Stop}, verified, in {Elapsed} ms",
            id, result.Bytes, result.Timeline, new Lsn(result.StartLsn), new Lsn(result.StopLsn), (long)result.Duration.TotalMilliseconds);
        await RetainAsync(archiver, ct);
        return repository.List().First(b => b.Id == id);
    }

    /// <summary>Keeps the newest KeepLast complete backups; WAL before the oldest kept one's start goes with the rest.</summary>
    private async Task RetainAsync(WalArchiver? archiver, CancellationToken ct)
    {
        var all = repository.List();
        var doomed = all.OrderByDescending(b => b.FinishedAt).Skip(settings.KeepLast).ToList();
        foreach (var old in doomed)
        {
            logger.LogInformation("Catalog backup retention: deleting {Id} (keeping the newest {Keep})", old.Id, settings.KeepLast);
            await BaseBackupRunner.DeleteAsync(old.Directory, logger, ct);
        }
        var kept = all.Except(doomed).ToList();
        if (doomed.Count > 0 && archiver is not null && kept.Count > 0) await archiver.DeleteBeforeAsync(kept.Min(b => b.StartLsn), ct);
    }
}
