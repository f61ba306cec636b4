using ControlPlane.Grains.Backups;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Instances;
using ControlPlane.Silo.Bootstrap;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Catalog;

/// <summary>
/// Backs up the embedded catalog from the silo that runs it: a <see cref="WalArchiver"/> (pg_receivewal, the
/// tiers' archiver) streams its WAL into the catalog repository, and base backups run on
/// <see cref="CatalogBackupOptions.Schedule"/> and on demand (<see cref="Start"/>). A hosted service, not a grain:
/// the catalog's backups must not need the catalog to be writable by Orleans, and everything they need is on this
/// silo's disk. The repository itself is the record of what exists (<see cref="CatalogBackupRepository"/>).
/// </summary>
internal sealed class CatalogBackupService(
    EmbeddedInstances instances, CatalogHealth health, IOptions<ControlPlaneOptions> options, TimeProvider clock, ILoggerFactory loggers)
    : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMinutes(1);

    private readonly ILogger _logger = loggers.CreateLogger<CatalogBackupService>();
    private readonly Lock _sync = new();
    private CatalogBackupAttempt? _current;
    private WalArchiver? _archiver;
    private CancellationToken _stopping;

    private CatalogBackupOptions Settings => options.Value.Catalog.Backups;

    public string Schedule => Settings.Schedule;
    public int KeepLast => Settings.KeepLast;

    /// <summary>Null when this silo backs up its catalog; otherwise why not.</summary>
    public string? DisabledReason =>
        instances.Catalog is null ? "this silo runs no embedded catalog (an external or joined catalog is backed up by whoever runs it)"
        : !Settings.Enabled ? "ControlPlane:Catalog:Backups:Enabled is false"
        : null;

    public CatalogBackupRepository Repository { get; } =
        new(options.Value.Catalog.Backups.RepositoryRoot(options.Value.DataDirectory), options.Value.Cluster.ClusterId);

    /// <summary>The running backup, or the last one that ended (null before the first).</summary>
    public CatalogBackupAttempt? Current
    {
        get { lock (_sync) return _current; }
    }

    public WalArchiverStatus? Archiver => _archiver?.Status;

    /// <summary>When the next scheduled backup is due; null without a schedule.</summary>
    public DateTimeOffset? NextBackup()
    {
        if (Settings.Schedule.Length == 0 || DisabledReason is not null) return null;
        var newest = Repository.List().LastOrDefault();
        // At once when there is no backup yet (archived WAL restores nothing without a base), or none of the catalog's
        // current timeline (after a restore: the newest backups may lie on the timeline the restore abandoned).
        var due = newest is null || newest.Timeline < ArchivedTimeline()
            ? clock.GetUtcNow()
            : BackupPlanner.NextDue(Settings.Schedule, newest.FinishedAt, clock.GetUtcNow());
        // After a failed attempt, a minute at least before the next scheduled one.
        return Current is { Running: false, Error: not null } failed && due < failed.StartedAt + RetryAfterFailure ? failed.StartedAt + RetryAfterFailure : due;
    }

    /// <summary>The timeline of the newest archived segment (its first 8 hex digits); 0 when unknown.</summary>
    private int ArchivedTimeline() =>
        Archiver?.NewestSegment is { Length: >= 8 } segment
        && int.TryParse(segment.AsSpan(0, 8), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var timeline)
            ? timeline
            : 0;

    /// <summary>Starts a backup now; throws <see cref="InvalidOperationException"/> (a precondition) when it cannot.</summary>
    public CatalogBackupAttempt Start()
    {
        if (DisabledReason is { } reason) throw new InvalidOperationException($"catalog backups are off on this silo: {reason}.");
        if (_archiver is null)
            throw new InvalidOperationException("catalog backups are not ready yet (the catalog is unreachable or its repository unusable); see the silo's log and retry.");
        CatalogBackupAttempt attempt;
        lock (_sync)
        {
            if (_current is { Running: true } running)
                throw new InvalidOperationException($"catalog backup {running.Id} is running since {running.StartedAt:u}; wait for it to end.");
            attempt = new CatalogBackupAttempt(Repository.NewId(clock.GetUtcNow()), clock.GetUtcNow());
            _current = attempt;
        }
        _ = Task.Run(() => RunAsync(attempt), CancellationToken.None);
        return attempt;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        if (DisabledReason is not null || instances.Catalog is not { } catalog) return;
        using var timer = new PeriodicTimer(Tick, clock);
        try
        {
            var prepared = false;
            do
            {
                if (!health.Current.Reachable) continue;
                if (!prepared) prepared = await TryPrepareAsync(catalog.Driver, stoppingToken);
                if (!prepared) continue;
                if (NextBackup() is { } due && due <= clock.GetUtcNow() && Current is not { Running: true })
                {
                    _logger.LogInformation("Scheduled catalog backup ({Schedule}) is due", Settings.Schedule);
                    Start();
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (_archiver is not null) await _archiver.DisposeAsync();
        }
    }

    private ReplicationSource Source => new(instances.Catalog!.Endpoint, ReplicatorPasswordFile);

    private string ReplicatorPasswordFile => Path.Combine(options.Value.DataDirectory, "secrets", "catalog.replicator");

    /// <summary>
    /// The repository, the replicator role (the catalog does not replicate otherwise), the clean-up of backups a
    /// killed silo left half-written, and the archiver. Retried every tick until it succeeds.
    /// </summary>
    private async Task<bool> TryPrepareAsync(LocalInstanceDriver catalog, CancellationToken ct)
    {
        try
        {
            await Repository.EnsureDirectoriesAsync(createRoot: string.IsNullOrWhiteSpace(Settings.Repository), _logger, ct);
            await CatalogBackupRepository.EnsureReplicatorAsync(catalog.Endpoint, ReplicatorPasswordFile, ct);
            await BaseBackupRunner.CleanUpInterruptedAsync(Repository.Repository, _logger, ct);
            _archiver = new WalArchiver(new WalArchiverOptions(Repository.Repository), loggers.CreateLogger<WalArchiver>());
            await _archiver.FollowAsync(Source, ct);
            _logger.LogInformation("Catalog backups: WAL archived into {Wal}; base backups {Schedule}, keeping {Keep}",
                Repository.Repository.WalDirectory, Settings.Schedule.Length == 0 ? "on demand only" : $"on '{Settings.Schedule}'", Settings.KeepLast);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogWarning("Catalog backups are not ready yet (retrying): {Error}", CatalogErrors.Clean(ex.Message));
            return false;
        }
    }

    private async Task RunAsync(CatalogBackupAttempt attempt)
    {
        string? error = null;
        try
        {
            var scratch = Path.Combine(options.Value.DataDirectory, "restores", "catalog-scratch");
            await new CatalogBackupJob(Repository, Source, Settings, scratch, _logger).RunAsync(attempt.Id, _archiver, _stopping);
        }
        catch (Exception ex)
        {
            // A backup job outlives nothing: whatever ended it is the attempt's error, shown in cpctl catalog status.
            error = ex is OperationCanceledException ? "the silo stopped while the backup ran" : CatalogErrors.Clean(ex.Message);
            _logger.LogError("Catalog backup {Id} failed: {Error}", attempt.Id, error);
        }
        lock (_sync) _current = attempt with { FinishedAt = clock.GetUtcNow(), Error = error };
    }
}
