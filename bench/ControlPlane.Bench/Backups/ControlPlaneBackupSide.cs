using System.Diagnostics;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.Bench.Backups;

/// <summary>One tool under test: a backup, its verification and a restore to a writable instance, timed separately.</summary>
public interface IBackupSide
{
    string Tool { get; }
    /// <summary>What a reader needs to judge the comparison (compression, parallelism).</summary>
    string Settings { get; }
    Task<BackupRun> RunAsync(int run, int order, CancellationToken ct);
}

/// <summary>
/// Ours: <see cref="BaseBackupRunner"/> (pg_basebackup, tar, lz4 on the client, WAL streamed into the backup) into a
/// <see cref="TierRepository"/>, <see cref="BackupVerifier"/> (extract + pg_verifybackup), and
/// <see cref="RestoreRunner"/> with <see cref="RecoveryTarget.Immediate"/>, which returns once the instance is promoted.
/// The repository's WAL directory stays empty: the backup's own <c>pg_wal</c> archive holds all the WAL an
/// immediate-target recovery replays, so no pg_receivewal runs (restore_command finds nothing and recovery reads
/// pg_wal). Each run's backup and restored instance are removed before the next round.
/// </summary>
public sealed class ControlPlaneBackupSide(BenchPrimary primary, BenchWorkspace workspace, TextWriter log) : IBackupSide
{
    private const string Compression = "lz4";
    private TierRepository Repository => new(Path.Combine(workspace.Root, "ours"), "bench", BenchPrimary.Tier);

    public string Tool => "ours (BaseBackupRunner)";
    public string Settings => "pg_basebackup -Ft -X stream, client lz4, CRC32C manifest, one process";

    public async Task<BackupRun> RunAsync(int run, int order, CancellationToken ct)
    {
        Directory.CreateDirectory(Repository.Root);
        var source = new ReplicationSource(primary.Driver.Endpoint, workspace.ReplicatorPasswordFile);
        var figures = new RunFigures(run, order);
        BaseBackupResult? backup = null;
        string? restored = null;
        var restorer = new RestoreRunner(NullLogger.Instance);
        try
        {
            var watch = Stopwatch.StartNew();
            backup = await new BaseBackupRunner(NullLogger.Instance).TakeAsync(
                new BaseBackupRequest($"run-{run}", source, Repository) { Compression = Compression }, null, ct);
            figures.BackupSeconds = watch.Elapsed.TotalSeconds;
            figures.StoredBytes = backup.Bytes;
            // PostgreSQL 15's pg_basebackup compresses pg_wal.tar only with gzip; the runner compresses it afterwards.
            figures.WalBytes = new DirectoryInfo(backup.Directory).EnumerateFiles("pg_wal.tar*").Sum(f => f.Length);
            await log.WriteLineAsync($"ours #{run}: backup {figures.BackupSeconds:F2} s, {backup.Bytes / 1e6:F1} MB of which WAL {figures.WalBytes / 1e6:F1} MB");

            var scratch = await workspace.PostgresDirectoryAsync("verify-scratch", ct);
            watch.Restart();
            var verification = await new BackupVerifier(NullLogger.Instance).VerifyAsync(backup.Directory, scratch, ct);
            figures.VerifySeconds = watch.Elapsed.TotalSeconds;
            figures.Verified = verification.Passed;
            await log.WriteLineAsync($"ours #{run}: verification {figures.VerifySeconds:F2} s, {(verification.Passed ? "passed" : "FAILED: " + verification.Detail)}");

            restored = Path.Combine(workspace.Root, "restores", $"ours-{run}", "data");
            var request = new RestoreRequest(backup.Directory, Repository.WalDirectory, restored, FreePort.Pick(), primary.Driver.Endpoint, RecoveryTarget.Immediate)
            {
                Timeout = TimeSpan.FromHours(1),
            };
            watch.Restart();
            var instance = await restorer.RestoreAsync(request, null, ct);
            figures.RestoreSeconds = watch.Elapsed.TotalSeconds;
            await log.WriteLineAsync($"ours #{run}: restore to writable {figures.RestoreSeconds:F2} s (timeline {instance.Timeline})");
            return figures.Done();
        }
        catch (Exception e) when (BackupsRun.IsToolFailure(e))
        {
            await log.WriteLineAsync($"ours #{run} failed: {e.Message}");
            return figures.Failed(e);
        }
        finally
        {
            // Throw-away copies: removed at once so the next round starts with the same free disk and page cache.
            if (restored is not null) await restorer.DestroyAsync(restored, CancellationToken.None);
            if (backup is not null) await BaseBackupRunner.DeleteAsync(backup.Directory, NullLogger.Instance, CancellationToken.None);
        }
    }
}
