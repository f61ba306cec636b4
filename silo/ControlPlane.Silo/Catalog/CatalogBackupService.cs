using ControlPlane.Grains.Backups;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Silo.Bootstrap;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Catalog;

/// <summary>
/// Backs up the embedded catalog from the silo that runs its primary instance: a <see cref="WalArchiver"/>
/// (pg_receivewal, the tiers' archiver) streams its WAL into the catalog repository, and base backups run on
/// <see cref="CatalogBackupOptions.Schedule"/> and on demand (<see cref="Start"/>). A hosted service, not a grain:
/// the catalog's backups must not need the catalog to be writable by Orleans, and everything they need is on disk.
/// The repository itself is the record of what exists (<see cref="CatalogBackupRepository"/>); it lies under the data
/// directory of the silo that provisioned the catalog, whichever silo writes into it.
/// <para>
/// Which silo backs up follows the manifest's primary (<see cref="CatalogBackupPolicy"/>), re-read every tick: after
/// a promotion the new primary's silo creates the archiver's slot on it and continues the archive on the new timeline
/// (the archiver reconciles the archive with the server it follows: diverged WAL moved aside, a gap recorded when
/// the new primary no longer has WAL the archive missed), and the old primary's silo stops archiving.
/// </para>
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
    // The instance the archiver follows and base backups are taken from; null while this silo backs up nothing.
    private LocalInstanceDriver? _followed;
    private CancellationToken _stopping;

    private CatalogBackupOptions Settings => options.Value.Catalog.Backups;

    public string Schedule => Settings.Schedule;
    public int KeepLast => Settings.KeepLast;

    /// <summary>Null when this silo backs up the catalog; otherwise why not, naming where backups run.</summary>
    public string? DisabledReason => Duty().DisabledReason;

    /// <summary>Data directory of the silo that provisioned the catalog: its secrets and the default repository are there.</summary>
    private string CatalogDirectory => instances.CatalogDirectory ?? options.Value.DataDirectory;

    public CatalogBackupRepository Repository { get; } =
        new(options.Value.Catalog.Backups.RepositoryRoot(instances.CatalogDirectory ?? options.Value.DataDirectory), options.Value.Cluster.ClusterId);

    /// <summary>This silo's duty now, from the manifest as it is on disk (a small file, replaced atomically).</summary>
    private CatalogBackupDuty Duty()
    {
        var local = new List<string>();
        if (instances.Catalog is not null) local.Add(CatalogInstance.PrimaryName);
        if (instances.CatalogStandby is not null) local.Add(CatalogStandby.Name);
        CatalogManifest? manifest = null;
        string? problem = null;
        if (instances.CatalogDirectory is not null)
        {
            try
            {
                manifest = System.Text.Json.JsonSerializer.Deserialize<CatalogManifest>(File.ReadAllText(Path.Combine(CatalogDirectory, CatalogInstance.ManifestFile)));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Text.Json.JsonException)
            {
                problem = ex.Message;
            }
        }
        return CatalogBackupPolicy.Decide(new CatalogBackupView(Settings.Enabled, instances.CatalogDirectory is not null, local, manifest,
            Path.Combine(CatalogDirectory, "catalog", "data"), problem));
    }

    private LocalInstanceDriver? DriverOf(string instance) =>
        instance == CatalogInstance.PrimaryName ? instances.Catalog?.Driver : instance == CatalogStandby.Name ? instances.CatalogStandby?.Driver : null;

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
        // Also at once after a gap in the archive (WAL lost across a promotion): only a backup after it bridges it.
        var due = newest is null || newest.Timeline < ArchivedTimeline() || Archiver?.Gaps.Any(g => g.RecordedAt > newest.StartedAt) == true
            ? clock.GetUtcNow()
            : BackupPlanner.NextDue(Settings.Schedule, newest.FinishedAt, clock.GetUtcNow());
        // After a failed attempt, a minute at least before the next scheduled one.
        return Current is { Running: false, Error: not null } failed && due < failed.StartedAt + RetryAfterFailure ? failed.StartedAt + RetryAfterFailure : due;
    }

    /// <summary>
    /// The newest timeline the archive knows: of its newest complete segment or of its newest history file, whichever is
    /// later (a promotion's history file is archived at once, its first complete segment only once 16 MB were written).
    /// 0 when unknown.
    /// </summary>
    private int ArchivedTimeline()
    {
        if (Archiver?.NewestSegment is not { } segment) return 0;
        var wal = Repository.Repository.WalDirectory;
        var histories = Directory.Exists(wal) ? Directory.EnumerateFiles(wal, "*.history").Select(p => TimelineOf(Path.GetFileName(p))) : [];
        return histories.Append(TimelineOf(segment)).Max();
    }

    /// <summary>The timeline a WAL file name starts with (8 hex digits); 0 when it does not.</summary>
    private static int TimelineOf(string name) =>
        name.Length >= 8 && int.TryParse(name.AsSpan(0, 8), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var timeline)
            ? timeline
            : 0;

    /// <summary>Starts a backup now; throws <see cref="InvalidOperationException"/> (a precondition) when it cannot.</summary>
    public CatalogBackupAttempt Start()
    {
        var duty = Duty();
        if (duty.DisabledReason is { } reason) throw new InvalidOperationException($"catalog backups are off on this silo: {reason}.");
        // Read once: the loop retargets these while a promotion is taken over.
        var followed = _followed;
        if (_archiver is null || followed is null || duty.Instance != followed.Endpoint.Name)
            throw new InvalidOperationException("catalog backups are not ready yet (the catalog is unreachable or its repository unusable); see the silo's log and retry.");
        CatalogBackupAttempt attempt;
        lock (_sync)
        {
            if (_current is { Running: true } running)
                throw new InvalidOperationException($"catalog backup {running.Id} is running since {running.StartedAt:u}; wait for it to end.");
            attempt = new CatalogBackupAttempt(Repository.NewId(clock.GetUtcNow()), clock.GetUtcNow());
            _current = attempt;
        }
        var source = Source(followed);
        _ = Task.Run(() => RunAsync(attempt, source), CancellationToken.None);
        return attempt;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        // An external catalog never becomes this silo's to back up; an embedded one may, by a promotion.
        if (instances.CatalogDirectory is null) return;
        using var timer = new PeriodicTimer(Tick, clock);
        try
        {
            do
            {
                var duty = Duty();
                if (duty.Instance is null || DriverOf(duty.Instance) is not { } driver)
                {
                    if (_archiver is not null) await StandDownAsync(duty.DisabledReason ?? "no catalog instance to back up");
                    continue;
                }
                if (!health.Current.Reachable) continue;
                if (_followed != driver && !await TryPrepareAsync(driver, stoppingToken)) continue;
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

    /// <summary>Another instance is primary now (a promotion): its silo archives, this one stops at once.</summary>
    private async Task StandDownAsync(string reason)
    {
        var archiver = _archiver!;
        (_archiver, _followed) = (null, null);
        await archiver.DisposeAsync();
        _logger.LogWarning("Catalog backups stop on this silo: {Reason}", reason);
    }

    private ReplicationSource Source(LocalInstanceDriver driver) => new(driver.Endpoint, ReplicatorPasswordFile);

    private string ReplicatorPasswordFile => Path.Combine(CatalogDirectory, "secrets", CatalogInstance.ReplicatorSecret);

    /// <summary>
    /// The repository, the replicator role (the catalog does not replicate otherwise), the clean-up of backups a
    /// killed silo left half-written, and the archiver following <paramref name="catalog"/> (the primary; after a
    /// promotion the archiver's slot is created on it and pg_receivewal continues on its timeline). Retried every tick
    /// until it succeeds: a standby the manifest already names primary is promoted a moment later.
    /// </summary>
    private async Task<bool> TryPrepareAsync(LocalInstanceDriver catalog, CancellationToken ct)
    {
        try
        {
            await Repository.EnsureDirectoriesAsync(createRoot: string.IsNullOrWhiteSpace(Settings.Repository), _logger, ct);
            await CatalogBackupRepository.EnsureReplicatorAsync(catalog.Endpoint, ReplicatorPasswordFile, ct);
            await BaseBackupRunner.CleanUpInterruptedAsync(Repository.Repository, _logger, ct);
            _archiver ??= new WalArchiver(new WalArchiverOptions(Repository.Repository), loggers.CreateLogger<WalArchiver>());
            await _archiver.FollowAsync(Source(catalog), ct);
            _followed = catalog;
            _logger.LogInformation("Catalog backups from {Instance} ({Host}:{Port}): WAL archived into {Wal}; base backups {Schedule}, keeping {Keep}",
                catalog.Endpoint.Name, catalog.Host, catalog.Port, Repository.Repository.WalDirectory,
                Settings.Schedule.Length == 0 ? "on demand only" : $"on '{Settings.Schedule}'", Settings.KeepLast);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogWarning("Catalog backups are not ready yet (retrying): {Error}", CatalogErrors.Clean(ex.Message));
            return false;
        }
    }

    private async Task RunAsync(CatalogBackupAttempt attempt, ReplicationSource source)
    {
        string? error = null;
        try
        {
            var scratch = Path.Combine(options.Value.DataDirectory, "restores", "catalog-scratch");
            await new CatalogBackupJob(Repository, source, Settings, scratch, _logger).RunAsync(attempt.Id, _archiver, _stopping);
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
