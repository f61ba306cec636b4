using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Grains.Security;
using ControlPlane.Postgres.Backups;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Grains.Backups;

/// <summary>Persistent part of a tier's backups: the policy and every record a restore or an auditor needs.</summary>
[GenerateSerializer, Alias("controlplane.TierBackupsState")]
public sealed class TierBackupsState
{
    [Id(0)] public BackupPolicy? Policy { get; set; }
    [Id(1)] public List<BackupRecord> Backups { get; set; } = [];
    [Id(2)] public List<DrillRecord> Drills { get; set; } = [];
    [Id(3)] public List<RestoreRecord> Restores { get; set; } = [];
    [Id(4)] public List<BackupOperation> Operations { get; set; } = [];
    [Id(5)] public List<TenantExportRecord> Exports { get; set; } = [];
    [Id(6)] public List<RetentionDecision> Retention { get; set; } = [];
    [Id(7)] public List<RestorePointRecord> RestorePoints { get; set; } = [];
    [Id(8)] public long Sequence { get; set; }
    /// <summary>The scheduled backup is due at the first cron occurrence after this moment (the last run, or when the
    /// schedule was set): a run missed while the control plane was down is then due once, not once per miss.</summary>
    [Id(9)] public DateTimeOffset? BackupAnchor { get; set; }
    [Id(10)] public DateTimeOffset? DrillAnchor { get; set; }
    /// <summary>The newest WAL archive gap already logged and audited (the gaps themselves live in the repository).</summary>
    [Id(11)] public DateTimeOffset? WalGapsAnnouncedUntil { get; set; }
}

/// <summary>
/// The backups of one tier. It gathers facts (the tier's primary and replicas, the archive's position), asks the pure
/// planners (schedule, retention, base choice, RPO), persists what it decided, then acts through the
/// <see cref="IBackupEngine"/>. Long jobs run as operations on the activation's scheduler, so calls stay answered
/// while a backup streams; a job interrupted by a crash is found Running by the next activation and marked failed.
/// </summary>
public sealed partial class BackupGrain(
    [PersistentState("backups", FleetKeys.Storage)] IPersistentState<TierBackupsState> state,
    IOptions<BackupOptions> options,
    IBackupEngine engine,
    BackupMetrics metrics,
    IAuditLog audit,
    ILogger<BackupGrain> logger) : Grain, IBackupGrain, IRemindable
{
    private const string ScheduleReminder = "backup-schedule";
    private const int KeptOperations = 50;
    private readonly BackupOptions _options = options.Value;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private string _env = "";
    private string _tier = "";
    private string _deferredBackupReason = "";
    private IGrainTimer? _timer;

    private TierBackupsState S => state.State;
    private BackupPolicy Policy => S.Policy ?? _options.PolicyFor(_tier);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        (_env, _tier) = (key[..slash], key[(slash + 1)..]);
        var now = DateTimeOffset.UtcNow;
        if (S.Policy is null)
        {
            S.Policy = _options.PolicyFor(_tier);
            S.BackupAnchor = now;
            S.DrillAnchor = now;
        }
        var interrupted = MarkInterrupted(now);
        await SaveAsync();
        if (interrupted > 0)
        {
            logger.LogWarning("{Env}/{Tier}: {Count} backup job(s) were interrupted by a stop of the control plane and are marked failed", _env, _tier, interrupted);
            _ = CleanUpInterruptedAsync();
        }
        await this.RegisterOrUpdateReminder(ScheduleReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1), cancellationToken);
        _timer = this.RegisterGrainTimer(OnTickAsync, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.Zero,
            Period = _options.TickInterval,
            KeepAlive = true,
        });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        await _stopping.CancelAsync();
        if (_archive is not null) await _archive.DisposeAsync();
        metrics.Forget(_env, _tier);
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) => CheckSchedulesAsync(DateTimeOffset.UtcNow);

    public Task Ensure() => Task.CompletedTask;

    public Task<BackupPolicy> GetPolicy() => Task.FromResult(Policy);

    public async Task<BackupPolicy> SetPolicy(BackupPolicy policy, string principal)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var errors = policy.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(policy));
        var before = Policy;
        var now = DateTimeOffset.UtcNow;
        S.Policy = policy;
        if (before.Schedule != policy.Schedule) S.BackupAnchor = now;
        if (before.DrillSchedule != policy.DrillSchedule) S.DrillAnchor = now;
        await SaveAsync();
        if (before.Repository != policy.Repository || before.SecondRepository != policy.SecondRepository || !policy.ArchiveWal)
        {
            await CloseArchiveAsync();
        }
        logger.LogInformation("{Env}/{Tier}: backup policy set by {Principal}: schedule '{Schedule}', keep {Keep}, window {Window}, repository {Repository}",
            _env, _tier, principal, policy.Schedule, policy.KeepLast, policy.RecoveryWindow, policy.Repository);
        return policy;
    }

    public Task<BackupOperation?> GetOperation(string operationId) =>
        Task.FromResult(S.Operations.FirstOrDefault(o => o.Id == operationId) is { } op ? WithProgress(op) : null);

    public Task<IReadOnlyList<BackupRecord>> ListBackups() => Task.FromResult<IReadOnlyList<BackupRecord>>([.. S.Backups]);

    public Task<BackupRecord?> GetBackup(string backupId) => Task.FromResult(S.Backups.FirstOrDefault(b => b.Id == backupId));

    public Task<IReadOnlyList<DrillRecord>> ListDrills(int limit) =>
        Task.FromResult<IReadOnlyList<DrillRecord>>([.. S.Drills.TakeLast(Math.Clamp(limit, 1, 500))]);

    public Task<IReadOnlyList<RestoreRecord>> ListRestores() => Task.FromResult<IReadOnlyList<RestoreRecord>>([.. S.Restores]);

    public Task<IReadOnlyList<TenantExportRecord>> ListTenantExports(string? tenant) =>
        Task.FromResult<IReadOnlyList<TenantExportRecord>>([.. S.Exports.Where(e => tenant is null || e.Tenant == tenant)]);

    public Task<IReadOnlyList<RetentionDecision>> ListRetentionDecisions(int limit) =>
        Task.FromResult<IReadOnlyList<RetentionDecision>>([.. S.Retention.TakeLast(Math.Clamp(limit, 1, 500))]);

    /// <summary>
    /// Persists the whole state. Jobs interleave on the activation, so writes are serialized; a lost compare-and-set
    /// means another activation owns the tier's backups now: this one stops and acts no further.
    /// </summary>
    private async Task SaveAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            await state.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            logger.LogWarning("{Env}/{Tier}: another activation owns these backups now; this one deactivates", _env, _tier);
            await _stopping.CancelAsync();
            DeactivateOnIdle();
            throw;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private long Next() => ++S.Sequence;

    private TierRepository Repository(BackupPolicy policy) => new(policy.Repository, _env, _tier);

    private TierRepository? SecondRepository(BackupPolicy policy) =>
        policy.SecondRepository.Length == 0 ? null : new TierRepository(policy.SecondRepository, _env, _tier);

    private ITierGrain TierGrain => GrainFactory.GetGrain<ITierGrain>(FleetKeys.Tier(_env, _tier));

    private void Audit(string action, string outcome, string detail, string operationId = "", string principal = AuditEntry.ControlPlane) =>
        _ = audit.AppendAsync(new AuditEntry
        {
            Principal = principal,
            Rpc = $"backups/{action}",
            Outcome = outcome,
            Target = $"{_env}/{_tier}",
            Detail = detail,
            OperationId = operationId,
        }, CancellationToken.None);

    /// <summary>Jobs that were running when the previous activation ended can never finish: they failed.</summary>
    private int MarkInterrupted(DateTimeOffset now)
    {
        const string Why = "interrupted: the control plane stopped while it ran";
        var count = 0;
        for (var i = 0; i < S.Backups.Count; i++)
        {
            if (S.Backups[i].State != BackupState.Running) continue;
            S.Backups[i] = S.Backups[i] with { State = BackupState.Failed, FinishedAt = now, Error = Why };
            count++;
        }
        for (var i = 0; i < S.Operations.Count; i++)
        {
            if (S.Operations[i].Finished) continue;
            S.Operations[i] = S.Operations[i].Step(Why) with { State = OperationState.Failed, FinishedAt = now, Error = Why };
            count++;
        }
        for (var i = 0; i < S.Drills.Count; i++)
        {
            if (S.Drills[i].Passed is not null) continue;
            S.Drills[i] = S.Drills[i] with { Passed = false, FinishedAt = now, Error = Why };
        }
        for (var i = 0; i < S.Restores.Count; i++)
        {
            if (S.Restores[i].Status != RestoreStatus.Running) continue;
            S.Restores[i] = S.Restores[i] with { Status = RestoreStatus.Failed, FinishedAt = now, Error = Why };
        }
        return count;
    }

    private async Task CleanUpInterruptedAsync()
    {
        try
        {
            var cleaned = await engine.CleanUpInterruptedAsync(Repository(Policy), _stopping.Token);
            foreach (var restore in S.Restores.Where(r => r.Status == RestoreStatus.Failed && Directory.Exists(r.DataDirectory)))
            {
                await engine.DestroyAsync(restore.DataDirectory, _stopping.Token);
            }
            if (cleaned > 0) logger.LogWarning("{Env}/{Tier}: removed {Count} half-written backup(s)", _env, _tier, cleaned);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OperationCanceledException or InvalidOperationException)
        {
            logger.LogWarning("{Env}/{Tier}: cleaning up interrupted backups failed: {Error}", _env, _tier, ex.Message);
        }
    }
}
