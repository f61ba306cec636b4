using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Fleet;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Health;

/// <summary>
/// Operator commands. Switchover and failover are recorded as pending operations and carried out by a one-way
/// call of the tier to itself, so the command answers at once with an operation id to watch.
/// </summary>
public sealed partial class TierGrain
{
    private const int OperationLogLength = 50;
    private static readonly TimeSpan CatchUpTimeout = TimeSpan.FromSeconds(30);

    public Task<OperationRecord> StartSwitchover(string? target, string principal) => StartAsync(OperationKind.Switchover, target, false, principal);

    public Task<OperationRecord> StartFailover(string? target, bool allowDataLoss, string principal) =>
        StartAsync(OperationKind.Failover, target, allowDataLoss, principal);

    public async Task<OperationRecord> Pause(string principal, string reason)
    {
        var spec = RequireSpec();
        var op = NewOperation(spec, OperationKind.Pause, null, false, principal);
        if (state.State.Paused) return await SaveOperationAsync(Finish(op.Step("already paused"), null));
        state.State.Paused = true;
        await PersistDecisionAsync(Decision(DecisionKind.Pause, reason.Length > 0 ? reason : "paused by an operator", principal, op.Id), newPrimary: null);
        var done = await SaveOperationAsync(Finish(op.Step("automatic decisions paused; probes go on"), null));
        await PublishAsync(forcePublish: false);
        return done;
    }

    public async Task<OperationRecord> Resume(string principal)
    {
        var spec = RequireSpec();
        var op = NewOperation(spec, OperationKind.Resume, null, false, principal);
        if (!state.State.Paused) return await SaveOperationAsync(Finish(op.Step("not paused"), null));
        state.State.Paused = false;
        await PersistDecisionAsync(Decision(DecisionKind.Resume, "resumed by an operator", principal, op.Id), newPrimary: null);
        var done = await SaveOperationAsync(Finish(op.Step("automatic decisions resumed"), null));
        await PublishAsync(forcePublish: false);
        return done;
    }

    public Task<OperationRecord?> GetOperation(string operationId) =>
        Task.FromResult(state.State.Operations.FirstOrDefault(o => o.Id == operationId));

    public Task<IReadOnlyList<DecisionRecord>> ListDecisions(int limit) =>
        Task.FromResult<IReadOnlyList<DecisionRecord>>(state.State.Decisions.TakeLast(Math.Clamp(limit, 1, DecisionLogLength)).ToList());

    public Task<FailoverSettings> GetSettings() => Task.FromResult(state.State.Settings);

    public async Task SetSettings(FailoverSettings settings, string principal)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var errors = settings.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors), nameof(settings));
        var spec = RequireSpec();
        state.State.Settings = settings;
        await PersistDecisionAsync(Decision(DecisionKind.Settings,
            $"settings: auto_failover={settings.AutoFailover}, failure_threshold={settings.FailureThreshold}, probe_interval={settings.ProbeInterval.TotalMilliseconds} ms, " +
            $"max_lag_on_failover={settings.MaxLagOnFailoverBytes}, max_lag_on_failover_seconds={settings.MaxLagOnFailoverSeconds}, synchronous_mode={settings.SynchronousMode}, " +
            $"synchronous_degrade_after={settings.SynchronousDegradeAfter.TotalMilliseconds} ms, crash_loop_count={settings.CrashLoopCount}, " +
            $"crash_loop_window={settings.CrashLoopWindow.TotalSeconds} s, disk_full_below_bytes={settings.DiskFullBelowBytes}, " +
            $"disk_write_check_below_bytes={settings.DiskWriteCheckBelowBytes}, not_streaming_heal_after={settings.NotStreamingHealAfter.TotalSeconds} s", principal, null), newPrimary: null);
        foreach (var replica in spec.Replicas) await Replica(spec, replica.Name).Configure(replica, Schedule);
    }

    public async Task RunOperation(string operationId)
    {
        var op = state.State.Operations.FirstOrDefault(o => o.Id == operationId);
        if (op is not { State: OperationState.Pending } || state.State.Spec is not { } spec) return;
        op = await SaveOperationAsync(op with { State = OperationState.Running });
        try
        {
            op = op.Kind switch
            {
                OperationKind.Failover => await RunFailoverAsync(spec, op),
                OperationKind.Switchover => await RunSwitchoverAsync(spec, op),
                _ => Finish(op, $"operation kind {op.Kind} does not run"),
            };
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogError(ex, "Tier {Environment}/{Tier} operation {Operation} failed", spec.Environment, spec.Name, op.Id);
            op = Finish(op, ex.Message);
        }
        await SaveOperationAsync(op);
    }

    private async Task<OperationRecord> RunFailoverAsync(TierSpec spec, OperationRecord op)
    {
        var current = state.State;
        var view = FailoverFacts.Build(spec, current.Settings, current.Paused, current.Term, current.Primary, _latest, DateTimeOffset.UtcNow, StaleAfter);
        var election = FailoverPolicy.Elect(view, op.Target, op.AllowDataLoss, ElectionPurpose.Failover);
        if (election.Candidate is null) return Finish(op, election.Reason);
        op = await SaveOperationAsync(op.Step($"elected {election.Candidate}: {string.Join("; ", election.Evidence)}"));
        var record = await FailOverAsync(spec, election.Candidate, DecisionKind.ManualFailover,
            $"manual failover by {op.Principal}" + (op.AllowDataLoss ? " allowing data loss" : ""), election.Evidence, op.Principal, op.Id);
        return Conclude(op, record);
    }

    private async Task<OperationRecord> RunSwitchoverAsync(TierSpec spec, OperationRecord op)
    {
        var current = state.State;
        if (current.Snapshot is not { Health: not TierHealth.Down })
            return Finish(op, $"primary {current.Primary} is not healthy; a switchover needs a running primary (use failover)");
        var old = spec.Replicas.First(r => r.Name == current.Primary);
        if (old.DataDirectory is null)
            return Finish(op, $"{old.Name} is reached over SQL only; a clean switchover needs the local driver (use failover, or an operator)");
        // Before the decision is persisted: a clean stop needs the silo of the primary's host (docs/hosts.md).
        if (await Replica(spec, old.Name).HostRefusal("stopping it cleanly for a switchover") is { } refusal)
            return Finish(op, refusal + " (or use failover)");
        var view = FailoverFacts.Build(spec, current.Settings, current.Paused, current.Term, current.Primary, _latest, DateTimeOffset.UtcNow, StaleAfter);
        var election = FailoverPolicy.Elect(view, op.Target, allowDataLoss: false, ElectionPurpose.Switchover);
        if (election.Candidate is null) return Finish(op, election.Reason);
        var target = election.Candidate;

        var record = new DecisionRecord(current.LastDecision + 1, DateTimeOffset.UtcNow, DecisionKind.Switchover, NextTerm(), old.Name, target,
            $"switchover by {op.Principal}", election.Evidence, op.Principal, op.Id, DecisionOutcome.Decided, [], null);
        if (!await PersistDecisionAsync(record, newPrimary: target)) return Finish(op, "a newer activation of the tier took over");
        _busy = true;
        long Ms() => (long)(DateTimeOffset.UtcNow - record.At).TotalMilliseconds;
        try
        {
            var checkpoint = await Replica(spec, old.Name).StopClean(record.Term);
            op = await SaveOperationAsync(op.Step($"{Ms()} ms: stopped {old.Name} cleanly at checkpoint {checkpoint}"));
            var deadline = DateTimeOffset.UtcNow + CatchUpTimeout;
            while (true)
            {
                var health = await Replica(spec, target).ProbeNow();
                if (health is { Reachable: true } && Math.Max(health.ReceiveLsn ?? 0, health.ReplayLsn ?? 0) >= checkpoint) break;
                if (DateTimeOffset.UtcNow > deadline)
                {
                    _busy = false;
                    await ReplaceDecisionAsync(record with { Outcome = DecisionOutcome.Failed, CompletedAt = DateTimeOffset.UtcNow,
                        Steps = [$"{target} did not receive {old.Name}'s final checkpoint within {CatchUpTimeout.TotalSeconds} s"] });
                    return Finish(op, $"{target} did not receive {old.Name}'s final checkpoint within {CatchUpTimeout.TotalSeconds} s; {old.Name} is stopped: " +
                        $"check replication, then run a failover to {target} or restart {old.Name}");
                }
                await Task.Delay(20);
            }
            op = await SaveOperationAsync(op.Step($"{Ms()} ms: {target} received everything up to {checkpoint}"));
        }
        catch (Exception) when (Release())
        {
            throw;
        }
        _busy = false;
        var done = await CarryOutFailoverAsync(spec, record with { Steps = [.. op.Steps.Select(s => s.Message)] });
        return Conclude(op, done);
    }

    private bool Release()
    {
        _busy = false;
        return false;
    }

    private async Task<OperationRecord> StartAsync(OperationKind kind, string? target, bool allowDataLoss, string principal)
    {
        var spec = RequireSpec();
        if (target is not null && spec.Replicas.All(r => r.Name != target))
        {
            throw new ArgumentException(
                $"target '{target}' is not a replica of tier {spec.Name}; its replicas are: {string.Join(", ", spec.Replicas.Select(r => r.Name))}.", nameof(target));
        }
        var running = state.State.Operations.FirstOrDefault(o => !o.Finished && o.Kind is OperationKind.Switchover or OperationKind.Failover);
        if (running is not null)
            throw new TierConflictException($"operation {running.Id} ({running.Kind}) is still {running.State}; wait for it to finish");
        var op = await SaveOperationAsync(NewOperation(spec, kind, target, allowDataLoss, principal));
        await this.AsReference<ITierGrain>().RunOperation(op.Id);
        return op;
    }

    private OperationRecord NewOperation(TierSpec spec, OperationKind kind, string? target, bool allowDataLoss, string principal)
    {
        state.State.LastOperation++;
        return new OperationRecord(OperationRecord.IdOf(spec.Name, state.State.LastOperation), kind, spec.Environment, spec.Name, target,
            allowDataLoss, principal, OperationState.Pending, [new OperationStep(DateTimeOffset.UtcNow, $"{kind} requested by {principal}")],
            DateTimeOffset.UtcNow, null, "", state.State.Term);
    }

    private static OperationRecord Finish(OperationRecord op, string? error) => (error is null ? op : op.Step($"failed: {error}")) with
    {
        State = error is null ? OperationState.Succeeded : OperationState.Failed,
        Error = error ?? "",
        FinishedAt = DateTimeOffset.UtcNow,
    };

    private OperationRecord Conclude(OperationRecord op, DecisionRecord? record)
    {
        if (record is null) return Finish(op, "a newer activation of the tier took over; nothing was done by this one");
        var withSteps = record.Steps.Aggregate(op, (o, s) => o.Steps.Any(x => x.Message == s) ? o : o.Step(s)) with { Term = record.Term };
        return Finish(withSteps, record.Outcome == DecisionOutcome.Completed ? null : $"decision {record.Sequence} of term {record.Term} failed");
    }

    private DecisionRecord Decision(DecisionKind kind, string reason, string principal, string? operationId)
    {
        var current = state.State;
        return new DecisionRecord(current.LastDecision + 1, DateTimeOffset.UtcNow, kind, current.Term, current.Primary, current.Primary,
            reason, [], principal, operationId, DecisionOutcome.Recorded, [], DateTimeOffset.UtcNow);
    }

    private async Task<OperationRecord> SaveOperationAsync(OperationRecord op)
    {
        var list = state.State.Operations;
        var index = list.FindIndex(o => o.Id == op.Id);
        if (index >= 0) list[index] = op;
        else list.Add(op);
        if (list.Count > OperationLogLength) list.RemoveRange(0, list.Count - OperationLogLength);
        await SaveStateAsync();
        return op;
    }

    private TierSpec RequireSpec() => state.State.Spec
        ?? throw new TierConflictException($"tier {this.GetPrimaryKeyString()} is not configured");
}
