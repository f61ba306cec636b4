using ControlPlane.Grains.Health;
using ControlPlane.Grains.Security;
using ControlPlane.Postgres.Backups;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Backups;

public sealed partial class BackupGrain
{
    private const int MirrorEveryTicks = 5;
    private IWalArchive? _archive;
    private string _archiveRepository = "";
    private string _following = "";
    private ArchiveStatus _archiveStatus = ArchiveStatus.None;
    private DateTimeOffset? _caughtUpAt;
    private long _ticks;
    private string _alert = "";
    private string _repositoryProblem = "";
    private string _deferredGapBackupReason = "";
    private DateTimeOffset _repositoryCheckedAt;

    public Task<ArchiveStatus> GetArchiveStatus() =>
        Task.FromResult(_archiveStatus.Gaps.Count == 0 ? _archiveStatus : _archiveStatus with { Gaps = WalGapPolicy.Marked(_archiveStatus.Gaps, S.Backups) });

    private async Task OnTickAsync(CancellationToken ct)
    {
        _ticks++;
        var now = DateTimeOffset.UtcNow;
        var policy = Policy;
        if (now - _repositoryCheckedAt > TimeSpan.FromSeconds(10))
        {
            _repositoryCheckedAt = now;
            _repositoryProblem = engine.CheckRepository(policy.Repository);
        }
        // Each step on its own: an archive that cannot start (no primary yet after a restart, a slot being rebuilt)
        // must not hold back a scheduled backup that fell due, nor the readings that would alert on it.
        await TickStepAsync("WAL archive", async () =>
        {
            if (policy.ArchiveWal && _repositoryProblem.Length == 0) await KeepArchivingAsync(policy, ct);
            else await CloseArchiveAsync();
        });
        await TickStepAsync("WAL archive gaps", BridgeWalGapsAsync);
        await TickStepAsync("schedule check", () => CheckSchedulesAsync(now));
        await TickStepAsync("alert readings", () => ReportAlertReadingsAsync(now));
        await PublishAlertAsync();
    }

    private async Task TickStepAsync(string step, Func<Task> run)
    {
        try
        {
            await run();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && !_stopping.IsCancellationRequested)
        {
            logger.LogDebug(ex, "{Env}/{Tier}: backup tick: {Step} failed", _env, _tier, step);
        }
    }

    /// <summary>Keeps pg_receivewal streaming from the tier's current primary, measures the RPO, feeds the mirror.</summary>
    private async Task KeepArchivingAsync(BackupPolicy policy, CancellationToken ct)
    {
        if (_archive is not null && _archiveRepository != policy.Repository + "|" + policy.SecondRepository) await CloseArchiveAsync();
        var snapshot = await TierGrain.GetSnapshot();
        var spec = await TierGrain.GetSpec();
        if (snapshot is null || spec is null) return;
        var primary = spec.Replicas.FirstOrDefault(r => r.Name == snapshot.Primary);
        var primaryStatus = snapshot.Replicas.FirstOrDefault(r => r.Name == snapshot.Primary);
        if (primary?.ReplicatorPasswordFile is null)
        {
            _archiveStatus = ArchiveStatus.None with { MeasuredAt = DateTimeOffset.UtcNow, LastError = $"{_env}/{_tier} has no replication credentials; WAL archiving needs the replicator role" };
            return;
        }
        if (_archive is null)
        {
            _archive = engine.OpenArchive(Repository(policy), SecondRepository(policy));
            _archiveRepository = policy.Repository + "|" + policy.SecondRepository;
            _following = "";
        }
        // Follow only a primary that is up: a dead one is being failed over, and the new one is followed when published.
        if (_following != primary.Name && primaryStatus is { Reachable: true, Role: ReplicaRole.Primary })
        {
            await _archive.FollowAsync(new ReplicationSource(ReplicaGrain.Endpoint(primary), primary.ReplicatorPasswordFile), ct);
            if (_following.Length > 0)
            {
                Audit("archive/follow", AuditOutcome.Ok, $"WAL archiving follows the new primary {primary.Name} (was {_following})");
            }
            logger.LogInformation("{Env}/{Tier}: WAL archiving follows {Primary}", _env, _tier, primary.Name);
            _following = primary.Name;
        }
        if (_following.Length == 0) return;
        await MeasureAsync(ct);
        if (_ticks % MirrorEveryTicks == 0 && policy.SecondRepository.Length > 0)
        {
            var copied = await _archive.MirrorAsync(ct);
            if (copied > 0) logger.LogDebug("{Env}/{Tier}: mirrored {Count} WAL file(s)", _env, _tier, copied);
        }
    }

    /// <summary>
    /// A gap the archiver recorded is announced once (log, audit) and bridged by a new base backup: recovery cannot
    /// replay across it, so until a backup taken after it succeeds no point-in-time restore reaches past it.
    /// </summary>
    private async Task BridgeWalGapsAsync()
    {
        // From the repository itself while the archiver is not running (after a restart, before the tier's first
        // probes): a gap is not forgotten, nor its alert resolved, just because nothing streams yet.
        if (_following.Length == 0) _archiveStatus = _archiveStatus with { Gaps = engine.ReadWalGaps(Repository(Policy)).Select(WalGapRecord.Of).ToList() };
        var gaps = _archiveStatus.Gaps;
        foreach (var gap in gaps.Where(g => g.RecordedAt > (S.WalGapsAnnouncedUntil ?? DateTimeOffset.MinValue)))
        {
            logger.LogError("{Env}/{Tier}: the WAL archive has a gap from {Gap}", _env, _tier, gap);
            Audit("archive/gap", AuditOutcome.Failed, $"WAL archive gap from {gap}");
            S.WalGapsAnnouncedUntil = gap.RecordedAt;
            await SaveAsync();
        }
        if (WalGapPolicy.BackupNeeded(gaps, S.Backups, Busy(BackupOperationKind.Backup)) is not { } bridge) return;
        // As a scheduled backup does: wait for a source rather than fail at once and spend the gap's one attempt.
        if (await BackupSourceMissingAsync(Policy) is { } missing)
        {
            if (missing != _deferredGapBackupReason) logger.LogInformation("{Env}/{Tier}: the base backup bridging the WAL archive gap waits: {Reason}", _env, _tier, missing);
            _deferredGapBackupReason = missing;
            return;
        }
        logger.LogWarning("{Env}/{Tier}: taking a base backup to bridge the WAL archive gap from {Gap}", _env, _tier, bridge);
        await BeginBackupAsync(AuditEntry.ControlPlane, $"base backup after the WAL archive gap from {bridge}");
    }

    private async Task MeasureAsync(CancellationToken ct)
    {
        var status = _archive!.Status;
        ArchiveSample? sample = null;
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(TimeSpan.FromSeconds(2));
            sample = await _archive.SampleAsync(deadline.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && !ct.IsCancellationRequested)
        {
            logger.LogDebug("{Env}/{Tier}: archive sample failed: {Error}", _env, _tier, ex.Message);
        }
        var now = DateTimeOffset.UtcNow;
        var streaming = status.Running && sample?.StoredLsn is not null;
        var (caughtUp, rpo) = sample is null
            ? (_caughtUpAt, now - (_caughtUpAt ?? now))
            : ArchivePolicy.Measure(sample, _caughtUpAt, streaming);
        _caughtUpAt = caughtUp ?? _caughtUpAt ?? now;
        _archiveStatus = new ArchiveStatus(now, rpo, sample?.PrimaryLsn ?? 0, sample?.StoredLsn, streaming, status.Server ?? "",
            status.Restarts, status.LastError ?? "", status.NewestSegment ?? "", _caughtUpAt)
        {
            Gaps = status.Gaps.Select(WalGapRecord.Of).ToList(),
        };
        metrics.Record(_env, _tier, g => g with { RpoSeconds = rpo.TotalSeconds, ArchiverRestarts = status.Restarts });
    }

    private async Task CloseArchiveAsync()
    {
        if (_archive is null) return;
        var archive = _archive;
        _archive = null;
        _following = "";
        await archive.DisposeAsync();
    }

    /// <summary>Starts a scheduled backup or drill that is due; never one while another of its kind runs.</summary>
    private async Task CheckSchedulesAsync(DateTimeOffset now)
    {
        var policy = Policy;
        var due = BackupPlanner.Due(policy, new ScheduleFacts(S.BackupAnchor, S.DrillAnchor,
            Busy(BackupOperationKind.Backup), Busy(BackupOperationKind.Drill), S.Backups.Any(b => b.Restorable))
        {
            SourceMissing = policy.Schedule.Length > 0 ? await BackupSourceMissingAsync(policy) : null,
        }, now);
        if (due.BackupWaiting.Length > 0 && due.BackupWaiting != _deferredBackupReason)
            logger.LogInformation("{Env}/{Tier}: scheduled base backup is due but waits: {Reason}", _env, _tier, due.BackupWaiting);
        _deferredBackupReason = due.BackupWaiting;
        if (due.Backup)
        {
            S.BackupAnchor = now;
            logger.LogInformation("{Env}/{Tier}: scheduled base backup is due ('{Schedule}')", _env, _tier, policy.Schedule);
            Audit("backup/scheduled", AuditOutcome.Ok, $"scheduled base backup ('{policy.Schedule}')");
            await BeginBackupAsync(AuditEntry.ControlPlane, $"scheduled backup ('{policy.Schedule}')");
        }
        if (due.Drill)
        {
            S.DrillAnchor = now;
            Audit("drill/scheduled", AuditOutcome.Ok, $"scheduled restore drill ('{policy.DrillSchedule}')");
            await BeginDrillAsync(null, AuditEntry.ControlPlane, $"scheduled drill ('{policy.DrillSchedule}')");
        }
    }

    /// <summary>Why a backup could not start now (the tier not probed yet, no reachable source), or null when it can.</summary>
    private async Task<string?> BackupSourceMissingAsync(BackupPolicy policy)
    {
        var snapshot = await TierGrain.GetSnapshot();
        if (snapshot is null) return "the tier has not been probed yet";
        return BackupSourcePolicy.Choose(policy.Source, snapshot) is null ? $"no reachable replica to take it from (primary {snapshot.Primary})" : null;
    }

    private async Task PublishAlertAsync()
    {
        var policy = Policy;
        var lastBackup = S.Backups.LastOrDefault(b => b.State is BackupState.Succeeded or BackupState.Failed);
        var lastDrill = S.Drills.LastOrDefault(d => d.Passed is not null)?.Summary;
        var alert = ArchivePolicy.Alert(policy, _archiveStatus, lastBackup, lastDrill,
            _repositoryProblem.Length > 0 ? $"repository: {_repositoryProblem}" : "", WalGapPolicy.Unbridged(_archiveStatus.Gaps, S.Backups));
        if (alert == _alert) return;
        _alert = alert;
        // The summary is a view for `cpctl tier`; the alert itself is raised by the engine from the readings.
        await TierGrain.SetBackupAlert(alert);
        try
        {
            await ReportAlertReadingsNowAsync(DateTimeOffset.UtcNow);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            logger.LogDebug(ex, "{Env}/{Tier}: backup readings not reported to the alert engine", _env, _tier);
        }
    }
}
