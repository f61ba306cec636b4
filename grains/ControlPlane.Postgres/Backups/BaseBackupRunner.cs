using System.Diagnostics;
using System.Globalization;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// Takes tar-format base backups with pg_basebackup over the replication protocol as the <c>replicator</c> role,
/// WAL streamed alongside (so every backup restores on its own), compressed on the client, with a CRC32C manifest.
/// The work happens in <c>&lt;id&gt;.partial/</c> (pg_basebackup writes <c>backup/</c> there, next to its pid file
/// and the 0600 password file) and is renamed to <c>&lt;id&gt;/</c> only once pg_basebackup succeeded: a crash
/// leaves a <c>.partial</c> directory, never a complete-looking backup. <see cref="CleanUpInterruptedAsync"/>
/// removes those (and a pg_basebackup orphaned by a crashed control plane).
/// </summary>
public sealed class BaseBackupRunner(ILogger logger, PgBinaries? binaries = null)
{
    public const string PartialSuffix = ".partial";
    internal const string PidFileName = "pg_basebackup.pid";
    internal const string WorkDirectoryName = "backup";
    private const string PassFileName = "replicator.pgpass";
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    /// <summary>Takes the backup <paramref name="request"/> describes; throws when it did not complete (nothing is left behind then).</summary>
    public async Task<BaseBackupResult> TakeAsync(BaseBackupRequest request, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        ValidateId(request.BackupId);
        var compress = BackupArchives.CompressArgument(request.Compression);
        var tool = (binaries ?? PgBinaries.Shared).Tool("pg_basebackup");
        var repo = request.Repository;
        var watch = Stopwatch.StartNew();
        await RepositoryDirectories.EnsureAsync(repo, logger, ct).ConfigureAwait(false);

        var final = repo.BackupDirectory(request.BackupId);
        var partial = final + PartialSuffix;
        if (Directory.Exists(final)) throw new IOException($"Backup '{final}' already exists; backup ids must be unique.");
        if (Directory.Exists(partial))
        {
            throw new IOException($"'{partial}' exists: a backup with id '{request.BackupId}' is running or was interrupted (clean-up at start-up removes interrupted ones).");
        }
        UnixFile.CreateDirectory(partial, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            await OsUser.GiveToPostgresAsync(partial, recursive: false, ct).ConfigureAwait(false);
            await RunPgBaseBackupAsync(tool, request, compress, partial, progress, ct).ConfigureAwait(false);
            progress?.Report(new BackupProgress("compressing WAL", 0, 0));
            await BackupArchives.CompressWalAsync(Path.Combine(partial, WorkDirectoryName), request.Compression, request.Timeout, ct).ConfigureAwait(false);
            Directory.Move(Path.Combine(partial, WorkDirectoryName), final);
            Directory.Delete(partial, recursive: true);
        }
        catch
        {
            TryDelete(partial);
            throw;
        }

        var range = BackupManifest.Parse(await File.ReadAllTextAsync(Path.Combine(final, BackupArchives.ManifestFile), ct).ConfigureAwait(false));
        var bytes = BackupArchives.StoredBytes(final);
        progress?.Report(new BackupProgress("done", bytes, bytes));
        logger.LogInformation("Base backup {BackupId} of {Tier} from {Replica}: {Bytes} bytes ({Compression}), timeline {Timeline}, WAL {Start} to {Stop}, in {Elapsed} ms",
            request.BackupId, repo.Tier, request.Source.Endpoint.Name, bytes, request.Compression, range.Timeline,
            new Lsn(range.StartLsn), new Lsn(range.StopLsn), watch.ElapsedMilliseconds);
        return new BaseBackupResult(request.BackupId, final, range.Timeline, range.StartLsn, range.StopLsn, bytes, watch.Elapsed, request.Compression);
    }

    /// <summary>
    /// Removes every interrupted backup (<c>*.partial</c>) of <paramref name="repository"/>, first killing the
    /// pg_basebackup still writing one (its pid file names it; the pid is only trusted when its command line is a
    /// pg_basebackup into that very directory). Call at start-up, before any backup of the repository runs.
    /// </summary>
    /// <returns>How many interrupted backups were removed.</returns>
    public static async Task<int> CleanUpInterruptedAsync(TierRepository repository, ILogger logger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(logger);
        if (!Directory.Exists(repository.BaseDirectory)) return 0;
        var cleaned = 0;
        foreach (var partial in Directory.GetDirectories(repository.BaseDirectory, "*" + PartialSuffix))
        {
            ct.ThrowIfCancellationRequested();
            await OrphanedBackup.KillAsync(partial, logger, ct).ConfigureAwait(false);
            logger.LogWarning("Removing interrupted base backup {Directory}", partial);
            Directory.Delete(partial, recursive: true);
            cleaned++;
        }
        return cleaned;
    }

    /// <summary>
    /// Deletes a finished backup. It is renamed to <c>.partial</c> first, so a crash half-way leaves something
    /// clean-up removes rather than a backup that looks complete and is not. A missing directory is not an error.
    /// </summary>
    public static Task DeleteAsync(string backupDirectory, ILogger logger, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(backupDirectory);
        ArgumentNullException.ThrowIfNull(logger);
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(backupDirectory));
        if (!Directory.Exists(full))
        {
            logger.LogInformation("Base backup {Directory} is already gone", full);
            return Task.CompletedTask;
        }
        if (!File.Exists(Path.Combine(full, BackupArchives.ManifestFile)))
        {
            throw new InvalidOperationException($"'{full}' has no {BackupArchives.ManifestFile}; refusing to delete what is not a base backup.");
        }
        return Task.Run(() =>
        {
            var doomed = full + PartialSuffix;
            if (Directory.Exists(doomed)) Directory.Delete(doomed, recursive: true);
            Directory.Move(full, doomed);
            Directory.Delete(doomed, recursive: true);
            logger.LogInformation("Deleted base backup {Directory}", full);
        }, ct);
    }

    private async Task RunPgBaseBackupAsync(string tool, BaseBackupRequest request, string compress, string partial, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        var passFile = Path.Combine(partial, PassFileName);
        await SecretFile.WriteForPostgresAsync(passFile,
            SecretFile.PgPassLine(InstanceConfig.ReplicationUser, SecretFile.Read(request.Source.ReplicatorPasswordFile)), ct).ConfigureAwait(false);
        var source = request.Source.Endpoint;
        var conninfo = string.Join(' ',
            InstanceConfig.Pair("host", source.Host),
            InstanceConfig.Pair("port", source.Port.ToString(CultureInfo.InvariantCulture)),
            InstanceConfig.Pair("user", InstanceConfig.ReplicationUser),
            InstanceConfig.Pair("passfile", passFile),
            InstanceConfig.Pair("connect_timeout", "10"),
            InstanceConfig.Pair("application_name", "controlplane-backup"));
        List<string> args =
        [
            "-d", conninfo, "-D", Path.Combine(partial, WorkDirectoryName), "-Ft", "-X", "stream", $"--compress={compress}",
            "--manifest-checksums=CRC32C", "--checkpoint=fast", "-P", "-w", $"--label=controlplane {request.BackupId}",
        ];
        if (request.MaxRateKbps is { } rate) args.Add($"--max-rate={rate.ToString(CultureInfo.InvariantCulture)}k");

        var pidFile = Path.Combine(partial, PidFileName);
        var lastReport = DateTime.MinValue;
        var watch = new ProcessWatch(
            Started: pid => File.WriteAllText(pidFile, pid.ToString(CultureInfo.InvariantCulture) + "\n"),
            ErrorLine: line =>
            {
                if (progress is null || BackupManifest.ParseProgress(line) is not { } p) return;
                var now = DateTime.UtcNow;
                if (now - lastReport < ProgressInterval && p.Done < p.Total) return;
                lastReport = now;
                progress.Report(new BackupProgress("copying", p.Done, p.Total));
            });
        logger.LogInformation("Base backup {BackupId} of {Tier} from {Replica} ({Host}:{Port}) into {Directory}",
            request.BackupId, request.Repository.Tier, source.Name, source.Host, source.Port, partial);
        progress?.Report(new BackupProgress("starting", 0, 0, "waiting for a checkpoint on the source"));
        var result = await ProcessRunner.RunAsync(new ProcessSpec(tool, args) { AsPostgres = true, Timeout = request.Timeout }, ct, watch).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            var said = string.Join('\n', result.StandardError.Split('\n').Where(l => BackupManifest.ParseProgress(l) is null && l.Trim().Length > 0));
            throw new ProcessFailedException(
                $"pg_basebackup of {request.Repository.Tier} from {source.Name} ({source.Host}:{source.Port}) into '{partial}' exited with {result.ExitCode}: {ProcessRunner.Tail(said)}");
        }
    }

    private static void ValidateId(string backupId)
    {
        if (string.IsNullOrEmpty(backupId) || backupId.Length > 100 || backupId.StartsWith('.')
            || !backupId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            || backupId.EndsWith(PartialSuffix, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Backup id '{backupId}' is not valid; expected up to 100 of [A-Za-z0-9._-], not starting with '.' nor ending in '{PartialSuffix}'.", nameof(backupId));
        }
    }

    private void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogError("Could not remove the failed backup's work directory {Directory}: {Error}", directory, e.Message);
        }
    }
}
