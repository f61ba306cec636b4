using ControlPlane.Grains.Pools;
using ControlPlane.Grains.Security;
using ControlPlane.Migrations.History;
using ControlPlane.Postgres.Changes;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Changes;

public sealed partial class ChangeGrain
{
    private const string RolloutReminder = "change-rollout";
    private static readonly TimeSpan TargetTimeout = TimeSpan.FromHours(1);
    // A batch the pool had no room for tries again after 5 s, then less often (each refusal is in the pool's
    // decision log), up to once a minute.
    private static readonly TimeSpan FirstPoolRetry = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LastPoolRetry = TimeSpan.FromMinutes(1);
    private TimeSpan _poolRetry = FirstPoolRetry;
    private readonly SemaphoreSlim _writes = new(1, 1);
    private IGrainTimer? _tick;
    private bool _running;

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (S.Phase is ChangePhase.RollingOut or ChangePhase.RollingBack)
        {
            if (!_running && _tick is null) Schedule(TimeSpan.Zero);
            return;
        }
        if (await this.GetReminder(RolloutReminder) is { } reminder) await this.UnregisterReminder(reminder);
    }

    private void Schedule(TimeSpan due)
    {
        _tick?.Dispose();
        _tick = this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions { DueTime = due, Period = Timeout.InfiniteTimeSpan });
    }

    /// <summary>One turn of the rollout: at most one batch, then the next turn is scheduled so commands get in between.</summary>
    private async Task TickAsync(CancellationToken ct)
    {
        _tick?.Dispose();
        _tick = null;
        if (_running || S.Phase is not (ChangePhase.RollingOut or ChangePhase.RollingBack)) return;
        _running = true;
        try
        {
            await StepAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A step that could not even start (catalog write, tier lookup): try again at the next reminder.
            logger.LogWarning(e, "Change {Environment}/{Change} on {Tier}: rollout turn failed; retried by the reminder", _env, _id, S.Tier);
        }
        finally
        {
            _running = false;
        }
    }

    private async Task StepAsync()
    {
        var strategy = S.Strategy ?? ChangeStrategy.Default;
        var step = ChangeRolloutPolicy.Next(S.Direction, S.Targets, S.Batch, S.Batches);
        switch (step.Kind)
        {
            case RolloutStepKind.Run:
                if (S.Direction == ChangeDirection.Forward && S.Batch > 0
                    && await ChangeTargets.HealthRefusalAsync(GrainFactory, _env, S.Tier) is { } unhealthy)
                {
                    Remember($"batch {S.Batch + 1} waits: {unhealthy}", AuditEntry.ControlPlane);
                    await SaveAsync();
                    Schedule(strategy.Pause > TimeSpan.FromSeconds(1) ? strategy.Pause : TimeSpan.FromSeconds(1));
                    return;
                }
                if (await RunTargetsAsync(step.Targets, strategy))
                {
                    _poolRetry = FirstPoolRetry;
                    Schedule(TimeSpan.Zero);
                }
                else
                {
                    Schedule(_poolRetry);
                    _poolRetry = _poolRetry * 2 < LastPoolRetry ? _poolRetry * 2 : LastPoolRetry;
                }
                return;
            case RolloutStepKind.Advance:
                S.Batch++;
                Remember($"batch {S.Batch} of {S.Batches} done", AuditEntry.ControlPlane);
                await SaveAsync();
                Schedule(S.Batch < S.Batches ? strategy.Pause : TimeSpan.Zero);
                return;
            case RolloutStepKind.Halt:
                S.Phase = ChangePhase.Halted;
                S.HaltReason = step.Reason;
                Remember($"halted: {step.Reason}", AuditEntry.ControlPlane);
                await SaveAsync();
                Audit(S.Direction == ChangeDirection.Forward ? "rollout" : "rollback", AuditOutcome.Failed, S.HaltReason, AuditEntry.ControlPlane);
                logger.LogWarning("Change {Environment}/{Change} on {Tier} halted: {Reason}", _env, _id, S.Tier, step.Reason);
                return;
            case RolloutStepKind.Complete:
                var forward = S.Direction == ChangeDirection.Forward;
                S.Phase = forward ? ChangePhase.Completed : ChangePhase.RolledBack;
                var blocked = S.Targets.Count(t => t.State == ChangeTargetState.Blocked);
                Remember(forward
                    ? $"rollout completed: {S.Targets.Count(t => t.State == ChangeTargetState.Applied)} target(s) applied, {blocked} blocked by drift"
                    : $"rollback completed: {S.Targets.Count(t => t.State == ChangeTargetState.RolledBack)} target(s) undone", AuditEntry.ControlPlane);
                await SaveAsync();
                await Ledger.Release(_id);
                if (await this.GetReminder(RolloutReminder) is { } reminder) await this.UnregisterReminder(reminder);
                Audit(forward ? "rollout" : "rollback", AuditOutcome.Ok, S.History[^1].Event, AuditEntry.ControlPlane);
                return;
        }
    }

    /// <summary>
    /// Takes the batch's sessions from the tier's pool (<see cref="ChangeLease"/>), marks the targets as in flight
    /// (persisted first), then runs them, as many at once as the lease allows. False, with nothing started, when the
    /// pool has no room for the change yet: the batch waits and tries again.
    /// </summary>
    private async Task<bool> RunTargetsAsync(IReadOnlyList<string> schemas, ChangeStrategy strategy)
    {
        var forward = S.Direction == ChangeDirection.Forward;
        var what = forward ? $"batch {S.Batch + 1}" : "rollback";
        ChangeLease lease;
        try
        {
            lease = await ChangeLease.AcquireAsync(Pool, strategy.Concurrency, $"{S.RolloutBy} (change {_id})");
        }
        catch (PoolRefusedException e)
        {
            var waits = $"{what} waits for sessions from the tier's pool: {e.Message}";
            if (S.History.Count == 0 || S.History[^1].Event != waits)
            {
                Remember(waits, AuditEntry.ControlPlane);
                await SaveAsync();
                logger.LogWarning("Change {Environment}/{Change} on {Tier}: {Waits}", _env, _id, S.Tier, waits);
            }
            return false;
        }
        await using (lease)
        {
            await RunLeasedAsync(schemas, strategy, ChangeRolloutPolicy.Sessions(strategy.Concurrency, lease.Lease.Granted), lease.Lease);
        }
        return true;
    }

    private async Task RunLeasedAsync(IReadOnlyList<string> schemas, ChangeStrategy strategy, int sessions, LeaseRecord lease)
    {
        var forward = S.Direction == ChangeDirection.Forward;
        foreach (var schema in schemas) Update(schema, t => t with { State = forward ? ChangeTargetState.Applying : ChangeTargetState.RollingBack });
        await SaveAsync();
        var primary = await ChangeTargets.PrimaryAsync(GrainFactory, _env, S.Tier);
        var limits = new ApplyLimits(strategy.LockTimeout, strategy.StatementTimeout);
        using var gate = new SemaphoreSlim(sessions);
        await Task.WhenAll(schemas.Select(async schema =>
        {
            await gate.WaitAsync();
            try
            {
                if (S.Phase == ChangePhase.Halted)
                {
                    // Halted while this target waited for its turn: it never started. Forward it is pending again; a
                    // target of a rollback stays marked rolling back, which resume and rollback both take up again.
                    if (forward) Update(schema, t => t with { State = ChangeTargetState.Pending });
                    return;
                }
                using var cts = new CancellationTokenSource(TargetTimeout);
                var result = forward
                    ? await ApplyTargetAsync(primary, schema, limits, cts.Token)
                    : await UndoTargetAsync(primary, schema, limits, cts.Token);
                Update(schema, _ => result);
            }
            finally
            {
                gate.Release();
            }
        }));
        Remember($"{(forward ? "batch " + (S.Batch + 1) : "rollback")} ({sessions} at once under pool lease {lease.Id}, granted {lease.Granted} of {lease.Requested}): "
            + string.Join(", ", schemas.Select(s => $"{s} {Target(s).State.ToString().ToLowerInvariant()}")), AuditEntry.ControlPlane);
        await SaveAsync();
    }

    private async Task<ChangeTarget> ApplyTargetAsync(Postgres.Fleet.ReplicaEndpoint primary, string schema, ApplyLimits limits, CancellationToken ct)
    {
        var target = Target(schema);
        try
        {
            await using var applier = await ChangeApplier.OpenAsync(primary, schema, ct);
            var comparison = HistoryComparer.Compare(Submission.Set, await applier.HistoryAsync(ct));
            if (comparison.Blocked)
            {
                Audit("drift", AuditOutcome.Failed, $"target {schema} blocked: {string.Join("; ", comparison.Drift.Select(d => d.Message))}", AuditEntry.ControlPlane);
                return target with { State = ChangeTargetState.Blocked, Pending = [], Drift = [.. comparison.Drift.Select(d => d.Message)] };
            }
            foreach (var version in comparison.Pending)
            {
                await applier.ApplyAsync(Submission.Forward(version), _id, S.RolloutBy, limits, ct);
            }
            return target with { State = ChangeTargetState.Applied, Pending = [], Applied = await AppliedByThisChangeAsync(applier, ct) };
        }
        catch (ChangeStatementException e)
        {
            return target with
            {
                State = ChangeTargetState.Failed, Error = e.Error, FailedVersion = e.Version, Statement = $"statement {e.StatementIndex + 1}: {e.Statement}",
                Applied = await AppliedAfterFailureAsync(primary, schema, target),
            };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return target with { State = ChangeTargetState.Failed, Error = e.Message };
        }
    }

    private async Task<ChangeTarget> UndoTargetAsync(Postgres.Fleet.ReplicaEndpoint primary, string schema, ApplyLimits limits, CancellationToken ct)
    {
        var target = Target(schema);
        long current = 0;
        try
        {
            await using var applier = await ChangeApplier.OpenAsync(primary, schema, ct);
            foreach (var version in (await AppliedByThisChangeAsync(applier, ct)).OrderDescending())
            {
                current = version;
                var undo = Submission.Undo(version) ?? throw new InvalidOperationException($"version {version} has no undo file");
                await applier.UndoAsync(version, undo, limits, ct);
            }
            return target with { State = ChangeTargetState.RolledBack, Applied = [] };
        }
        catch (ChangeStatementException e)
        {
            return target with { State = ChangeTargetState.Failed, Error = "undo: " + e.Error, FailedVersion = e.Version, Statement = $"statement {e.StatementIndex + 1}: {e.Statement}" };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return target with { State = ChangeTargetState.Failed, Error = "undo: " + e.Message, FailedVersion = current };
        }
    }

    /// <summary>The versions this change applied to the target, from the target's own history (the truth after a crash).</summary>
    private async Task<IReadOnlyList<long>> AppliedByThisChangeAsync(ChangeApplier applier, CancellationToken ct) =>
        [.. (await applier.HistoryAsync(ct)).Where(r => r.ChangeId == _id).Select(r => r.Version).Order()];

    private async Task<IReadOnlyList<long>> AppliedAfterFailureAsync(Postgres.Fleet.ReplicaEndpoint primary, string schema, ChangeTarget fallback)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await using var applier = await ChangeApplier.OpenAsync(primary, schema, cts.Token);
            return await AppliedByThisChangeAsync(applier, cts.Token);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return fallback.Applied;
        }
    }

    /// <summary>At submit: every target with what it still needs, or the drift that blocks it.</summary>
    /// <summary>The targets' table sizes for the plan; null (every scan Unknown) when the primary cannot say.</summary>
    private async Task<TargetTableSizes?> TargetSizesAsync()
    {
        try
        {
            var primary = await ChangeTargets.PrimaryAsync(GrainFactory, _env, S.Tier);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            return await TargetTableSizes.ReadAsync(primary, [.. S.Targets.Select(t => t.Schema)], cts.Token);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or OperationCanceledException or InvalidOperationException)
        {
            logger.LogWarning("Change {Environment}/{Change} on {Tier}: table sizes not read, the plan classes scans as unknown: {Reason}", _env, _id, S.Tier, e.Message);
            return null;
        }
    }

    private async Task<IReadOnlyList<ChangeTarget>> PlanTargetsAsync()
    {
        var schemas = await ChangeTargets.DiscoverAsync(GrainFactory, _env, S.Tier);
        var targets = new List<ChangeTarget>();
        Postgres.Fleet.ReplicaEndpoint primary;
        try
        {
            primary = await ChangeTargets.PrimaryAsync(GrainFactory, _env, S.Tier);
        }
        catch (InvalidOperationException e)
        {
            throw new ChangeRefusedException(ChangeRefusalKind.Precondition, $"cannot plan the change: {e.Message}");
        }
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        foreach (var schema in schemas)
        {
            await using var applier = await ChangeApplier.OpenAsync(primary, schema, cts.Token);
            var comparison = HistoryComparer.Compare(Submission.Set, await applier.HistoryAsync(cts.Token));
            targets.Add(comparison.Blocked
                ? new ChangeTarget(schema, ChangeTargetState.Blocked, [], [], Drift: [.. comparison.Drift.Select(d => d.Message)])
                : new ChangeTarget(schema, ChangeTargetState.Pending, comparison.Pending, []));
        }
        return targets;
    }

    private ChangeTarget Target(string schema) => S.Targets.First(t => t.Schema == schema);

    private void Update(string schema, Func<ChangeTarget, ChangeTarget> change)
    {
        var i = S.Targets.FindIndex(t => t.Schema == schema);
        S.Targets[i] = change(S.Targets[i]);
    }
}
