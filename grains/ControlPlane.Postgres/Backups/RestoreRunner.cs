using System.Diagnostics;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Backups;

/// <summary>A restore did not reach its target; the message quotes the restored server's log. Nothing of it runs.</summary>
public sealed class RestoreFailedException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Restores a base backup plus archived WAL into a new instance on this host and starts it through
/// <see cref="LocalInstanceDriver"/>: the archives are laid into the target data directory as the postgres user,
/// the backed-up instance's controlplane.conf is rewritten for the new port with the recovery settings appended
/// (<see cref="RecoveryConfig"/>), and the server replays until it promotes at the target (or, as a standby of a
/// running primary, until it streams). The instance directory (parent of the data directory) is the restore's
/// own: it holds a marker file, and <see cref="DestroyAsync"/> refuses to remove a directory without it.
/// </summary>
public sealed partial class RestoreRunner(ILogger logger, PgBinaries? binaries = null)
{
    public const string MarkerFile = ".controlplane-restore";
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    /// <summary>Restores and returns the running instance; on failure nothing is left running (the directory stays, for its log; <see cref="DestroyAsync"/> removes it).</summary>
    public async Task<RestoredInstance> RestoreAsync(RestoreRequest request, IProgress<BackupProgress>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var watch = Stopwatch.StartNew();
        var backup = Path.GetFullPath(request.BackupDirectory);
        var range = Validate(request, backup);
        var data = Path.GetFullPath(request.TargetDataDirectory);
        EnsureNewTarget(data);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(request.Timeout);

        var driver = Driver(request, data);
        try
        {
            await PrepareAsync(request, backup, data, deadline.Token).ConfigureAwait(false);
            progress?.Report(new BackupProgress("laying down", 0, 0, backup));
            var laid = await BackupArchives.ExtractBackupAsync(backup, data, asPostgres: true, request.Timeout, deadline.Token).ConfigureAwait(false);
            progress?.Report(new BackupProgress("laying down", laid, laid, backup));
            await ConfigureAsync(driver, request.StandbyOf is not null, deadline.Token).ConfigureAwait(false);
            if (request.StandbyOf is { } primary) driver.SetUpstream(primary.Endpoint, slotName: null);

            logger.LogWarning("Restoring {Backup} into {DataDirectory} on port {Port}, target {Target}{Standby}",
                backup, data, request.Port, Describe(request.Target), request.StandbyOf is null ? "" : $", standby of {request.StandbyOf.Endpoint.Name}");
            await driver.StartAsync(deadline.Token).ConfigureAwait(false);
            var reached = await WaitForRecoveryAsync(driver, Endpoint(request, data), request.StandbyOf is not null, range.StartLsn, progress, deadline.Token).ConfigureAwait(false);
            logger.LogWarning("Restored {Backup} into {DataDirectory}: timeline {Timeline}, reached {Lsn}, in {Elapsed} ms",
                backup, data, reached.Timeline, new Lsn(reached.Lsn), watch.ElapsedMilliseconds);
            return new RestoredInstance(data, Endpoint(request, data), reached.Timeline, reached.Lsn, watch.Elapsed);
        }
        catch (Exception e) when (e is not ArgumentException)
        {
            await LeaveNothingRunningAsync(driver).ConfigureAwait(false);
            if (e is OperationCanceledException && !ct.IsCancellationRequested)
            {
                throw new TimeoutException($"Restore of '{backup}' into '{data}' did not finish within {request.Timeout}. Server log '{driver.LogFile}' ends with:\n{driver.LogTail()}", e);
            }
            if (e is ProcessFailedException)
            {
                throw new RestoreFailedException($"Restore of '{backup}' into '{data}' failed: {e.Message}", e);
            }
            throw;
        }
    }

    /// <summary>
    /// Stops a restored instance at once (SIGKILL to all its processes: it is thrown away) and deletes its instance
    /// directory, the parent of <paramref name="dataDirectory"/>. Refuses a directory this runner did not create.
    /// </summary>
    public async Task DestroyAsync(string dataDirectory, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        var data = Path.GetFullPath(dataDirectory);
        var instance = Path.GetDirectoryName(data) ?? throw new ArgumentException($"'{data}' has no parent directory.", nameof(dataDirectory));
        if (!Directory.Exists(instance)) return;
        if (!File.Exists(Path.Combine(instance, MarkerFile)))
        {
            throw new InvalidOperationException($"'{instance}' was not created by a restore (no {MarkerFile}); refusing to delete it.");
        }
        var driver = new LocalInstanceDriver(new LocalInstanceOptions("restore", Path.GetFileName(instance), data, 1, "", null), logger, binaries);
        await driver.FenceAsync(ct).ConfigureAwait(false);
        Directory.Delete(instance, recursive: true);
        logger.LogWarning("Destroyed restored instance {Directory}", instance);
    }

    private LocalInstanceDriver Driver(RestoreRequest request, string data) =>
        new(new LocalInstanceOptions(request.Credentials.Tier, "restore-" + Path.GetFileName(Path.GetDirectoryName(data)), data, request.Port,
                request.Credentials.PasswordFile, request.StandbyOf?.ReplicatorPasswordFile)
            {
                ExtraSettings = RecoveryConfig.Render(request.Target, request.WalDirectory, standby: request.StandbyOf is not null),
            },
            logger, binaries);

    private static ReplicaEndpoint Endpoint(RestoreRequest request, string data) =>
        request.Credentials with
        {
            Name = "restore-" + Path.GetFileName(Path.GetDirectoryName(data)),
            Host = "127.0.0.1",
            Port = request.Port,
            DataDirectory = data,
        };

    private async Task LeaveNothingRunningAsync(LocalInstanceDriver driver)
    {
        try
        {
            await driver.FenceAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or IOException)
        {
            logger.LogError("Could not stop the failed restore in {DataDirectory}: {Error}", driver.DataDirectory, e.Message);
        }
    }

    private static string Describe(RecoveryTarget t) => t.Kind switch
    {
        RecoveryTargetKind.Time => $"time {t.Time:O}",
        RecoveryTargetKind.Lsn => $"lsn {new Lsn(t.Lsn ?? 0)}",
        RecoveryTargetKind.RestorePoint => $"restore point '{t.Name}'",
        _ => t.Kind.ToString().ToLowerInvariant(),
    };
}
