using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Pools;
using ControlPlane.Grains.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Grains.Changes;

[GenerateSerializer, Alias("controlplane.ChangeState")]
public sealed class ChangeState
{
    [Id(0)] public bool Exists { get; set; }
    [Id(1)] public string Tier { get; set; } = "";
    [Id(2)] public string Description { get; set; } = "";
    [Id(3)] public string Author { get; set; } = "";
    [Id(4)] public ChangePhase Phase { get; set; }
    [Id(5)] public List<ChangeFile> Files { get; set; } = [];
    [Id(6)] public List<ChangeFinding> Findings { get; set; } = [];
    [Id(7)] public List<ChangePlanStatement> Plan { get; set; } = [];
    [Id(8)] public List<ChangeApproval> Approvals { get; set; } = [];
    [Id(9)] public ChangeStrategy? Strategy { get; set; }
    [Id(10)] public List<ChangeTarget> Targets { get; set; } = [];
    [Id(11)] public int Batch { get; set; }
    [Id(12)] public int Batches { get; set; }
    [Id(13)] public string HaltReason { get; set; } = "";
    [Id(14)] public List<string> Tags { get; set; } = [];
    [Id(15)] public List<ChangeEvent> History { get; set; } = [];
    [Id(16)] public DateTimeOffset SubmittedAt { get; set; }
    [Id(17)] public long Version { get; set; }
    [Id(18)] public ChangeDirection Direction { get; set; }
    [Id(19)] public string RolloutBy { get; set; } = "";
    [Id(20)] public List<long> Versions { get; set; } = [];
    [Id(21)] public int RequiredApprovals { get; set; }
}

/// <summary>
/// One change request. Commands ask <see cref="ChangeRolloutPolicy"/>, persist the decision, then act; the rollout runs
/// in timer turns (one batch per turn, so halt and other commands get in between batches) and a reminder wakes a new
/// activation after a silo crash, which continues from the persisted batch. Each version's history row is written in
/// the version's own transaction on the target, so a repeated batch skips what already ran.
/// </summary>
public sealed partial class ChangeGrain(
    [PersistentState("change", FleetKeys.Storage)] IPersistentState<ChangeState> state,
    IAuditLog audit,
    IOptions<ChangeOptions> options,
    ILogger<ChangeGrain> logger) : Grain, IChangeGrain, IRemindable
{
    private const int HistoryKept = 500;
    private string _env = "";
    private string _id = "";
    private ChangeSubmission? _submission;

    private ChangeState S => state.State;

    private ChangeSubmission Submission => _submission ??= ChangeSubmission.From(S.Files);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        (_env, _id) = slash < 0 ? (key, "") : (key[..slash], key[(slash + 1)..]);
        // A rollout the previous activation did not finish (a silo crash): continue it soon, outside activation.
        if (S.Phase is ChangePhase.RollingOut or ChangePhase.RollingBack) Schedule(TimeSpan.FromSeconds(1));
        return Task.CompletedTask;
    }

    public async Task<ChangeView> Submit(string tier, IReadOnlyList<ChangeFile> files, string description, string principal)
    {
        ArgumentNullException.ThrowIfNull(files);
        if (S.Exists) throw new ChangeRefusedException(ChangeRefusalKind.Exists, $"change '{_id}' already exists on tier {S.Tier}; choose another change id.");
        if (await GrainFactory.GetGrain<ITierGrain>(FleetKeys.Tier(_env, tier)).GetSpec() is null)
            throw new ChangeRefusedException(ChangeRefusalKind.NotFound, $"tier '{tier}' not found in environment '{_env}'.");
        S.Files = [.. files];
        _submission = null;
        var submission = Submission;
        S.Exists = true;
        S.Tier = tier;
        S.Description = description;
        S.Author = principal;
        S.SubmittedAt = DateTimeOffset.UtcNow;
        S.Versions = [.. submission.Set.Migrations.Select(m => m.Version)];
        S.Findings = [.. submission.Lint()];
        S.RequiredApprovals = options.Value.RequiredFor(tier);
        S.Phase = ChangePhase.Submitted;
        S.Targets = [.. await PlanTargetsAsync()];
        S.Plan = [.. submission.Plan(await TargetSizesAsync())];
        var errors = S.Findings.Count(f => f.Error);
        Remember($"submitted: versions {string.Join(", ", S.Versions)}, {S.Targets.Count} target(s), {errors} lint error(s), {S.Findings.Count - errors} warning(s)", principal);
        await SaveAsync();
        await Ledger.Add(_id);
        Audit("submit", AuditOutcome.Ok, S.History[^1].Event, principal);
        return View();
    }

    public async Task<ChangeView> Approve(string principal, string waiver)
    {
        RequireExists();
        var errors = S.Findings.Count(f => f.Error);
        var decision = ChangeRolloutPolicy.Approve(S.Phase, S.Author, principal, S.Approvals, errors, waiver);
        if (!decision.Allowed)
        {
            Audit("approve", AuditOutcome.Denied, decision.Reason, principal);
            throw Refused(decision);
        }
        S.Approvals.Add(new ChangeApproval(principal, DateTimeOffset.UtcNow, errors > 0 ? waiver : ""));
        if (S.Approvals.Count >= S.RequiredApprovals) S.Phase = ChangePhase.Approved;
        Remember($"approved ({S.Approvals.Count} of {S.RequiredApprovals}){(errors > 0 ? $", {errors} lint error(s) waived: {waiver}" : "")}", principal);
        await SaveAsync();
        Audit("approve", AuditOutcome.Ok, S.History[^1].Event, principal);
        return View();
    }

    public async Task<ChangeView> Rollout(ChangeStrategy strategy, string principal)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        RequireExists();
        var decision = ChangeRolloutPolicy.Rollout(S.Phase, S.Approvals.Count, S.RequiredApprovals);
        if (!decision.Allowed) throw Refused(decision);
        await ClaimTierAsync();
        var schemas = await ChangeTargets.DiscoverAsync(GrainFactory, _env, S.Tier);
        var batches = ChangeRolloutPolicy.Batches(schemas.Count, strategy);
        S.Targets = [.. schemas.Select((s, i) => new ChangeTarget(s, ChangeTargetState.Pending, [], [], Batch: batches[i]))];
        S.Batches = batches.Count == 0 ? 0 : batches.Max() + 1;
        S.Batch = 0;
        S.Strategy = strategy;
        S.RolloutBy = principal;
        S.Direction = ChangeDirection.Forward;
        S.Phase = ChangePhase.RollingOut;
        Remember($"rollout started: {schemas.Count} target(s) in {S.Batches} batch(es) (canary {strategy.CanaryTargets}, batch {strategy.BatchSize}, concurrency {strategy.Concurrency})", principal);
        return await StartAsync("rollout", principal);
    }

    public async Task<ChangeView> Halt(string reason, string principal)
    {
        RequireExists();
        var decision = ChangeRolloutPolicy.Halt(S.Phase);
        if (!decision.Allowed) throw Refused(decision);
        S.Phase = ChangePhase.Halted;
        S.HaltReason = $"halted by {principal}: {reason}";
        Remember(S.HaltReason, principal);
        await SaveAsync();
        Audit("halt", AuditOutcome.Ok, S.HaltReason, principal);
        return View();
    }

    public async Task<ChangeView> Resume(string principal)
    {
        RequireExists();
        var decision = ChangeRolloutPolicy.Resume(S.Phase);
        if (!decision.Allowed) throw Refused(decision);
        await ClaimTierAsync();
        Retry(S.Direction == ChangeDirection.Forward ? ChangeTargetState.Pending : ChangeTargetState.RollingBack);
        S.Phase = S.Direction == ChangeDirection.Forward ? ChangePhase.RollingOut : ChangePhase.RollingBack;
        S.HaltReason = "";
        Remember($"resumed at batch {S.Batch + 1} of {S.Batches}", principal);
        return await StartAsync("resume", principal);
    }

    public async Task<ChangeView> Rollback(string principal)
    {
        RequireExists();
        var withoutUndo = S.Targets.SelectMany(t => t.Applied).Distinct().Where(v => Submission.Undo(v) is null).ToArray();
        var decision = ChangeRolloutPolicy.Rollback(S.Phase, withoutUndo);
        if (!decision.Allowed) throw Refused(decision);
        await ClaimTierAsync();
        Retry(ChangeTargetState.RollingBack);
        S.Direction = ChangeDirection.Back;
        S.Phase = ChangePhase.RollingBack;
        S.HaltReason = "";
        Remember($"rollback started: {S.Targets.Count(ChangeRolloutPolicy.NeedsUndo)} target(s) to undo", principal);
        return await StartAsync("rollback", principal);
    }

    public async Task<ChangeView> Tag(string tag, string principal)
    {
        RequireExists();
        if (S.Phase != ChangePhase.Completed)
            throw new ChangeRefusedException(ChangeRefusalKind.Precondition, $"the change is {ChangeRolloutPolicy.Word(S.Phase)}; only a completed change names a schema version.");
        if (await Ledger.ClaimTag(tag, _id) is { } owner)
            throw new ChangeRefusedException(ChangeRefusalKind.Exists, $"tag '{tag}' already names change {owner} on tier {S.Tier}.");
        if (!S.Tags.Contains(tag)) S.Tags.Add(tag);
        Remember($"tagged '{tag}' (schema version {S.Versions.LastOrDefault()})", principal);
        await SaveAsync();
        Audit("tag", AuditOutcome.Ok, S.History[^1].Event, principal);
        return View();
    }

    public Task<ChangeView?> Get() => Task.FromResult(S.Exists ? View() : null);

    private async Task<ChangeView> StartAsync(string action, string principal)
    {
        await SaveAsync();
        await this.RegisterOrUpdateReminder(RolloutReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        Audit(action, AuditOutcome.Ok, S.History[^1].Event, principal);
        Schedule(TimeSpan.Zero);
        return View();
    }

    /// <summary>Failed (or interrupted) targets go back to <paramref name="to"/> so the next turn runs them again.</summary>
    private void Retry(ChangeTargetState to)
    {
        for (var i = 0; i < S.Targets.Count; i++)
        {
            if (S.Targets[i].State is ChangeTargetState.Failed or ChangeTargetState.Applying or ChangeTargetState.RollingBack)
                S.Targets[i] = S.Targets[i] with { State = to, Error = "", Statement = "", FailedVersion = 0 };
        }
    }

    private async Task ClaimTierAsync()
    {
        if (await Ledger.Claim(_id) is { } other)
            throw new ChangeRefusedException(ChangeRefusalKind.Precondition,
                $"tier {S.Tier} is running change {other}; one rollout per tier at a time (halt and roll back, or let it complete).");
    }

    private void RequireExists()
    {
        if (!S.Exists) throw new ChangeRefusedException(ChangeRefusalKind.NotFound, $"change '{_id}' not found in environment '{_env}'.");
    }

    private static ChangeRefusedException Refused(ChangeDecision decision) =>
        new(decision.Refusal == ChangeRefusal.Denied ? ChangeRefusalKind.Denied : ChangeRefusalKind.Precondition, decision.Reason + ".");

    private void Remember(string what, string principal)
    {
        S.History.Add(new ChangeEvent(DateTimeOffset.UtcNow, what, principal));
        if (S.History.Count > HistoryKept) S.History.RemoveRange(0, S.History.Count - HistoryKept);
    }

    private async Task SaveAsync()
    {
        // Halt interleaves with a running batch: two writes of one activation must not overlap (each would carry
        // the same ETag and the second would be refused), so they queue here. Each writes the state as it is then.
        await _writes.WaitAsync();
        try
        {
            S.Version++;
            await state.WriteStateAsync();
        }
        finally
        {
            _writes.Release();
        }
    }

    private IChangeLedgerGrain Ledger => GrainFactory.GetGrain<IChangeLedgerGrain>(FleetKeys.Tier(_env, S.Tier));

    private IPoolGrain Pool => GrainFactory.GetGrain<IPoolGrain>(FleetKeys.Tier(_env, S.Tier));

    private void Audit(string action, string outcome, string detail, string principal) =>
        _ = audit.AppendAsync(new AuditEntry
        {
            Principal = principal,
            Rpc = $"changes/{action}",
            Outcome = outcome,
            Target = $"{_env}/{S.Tier}",
            Detail = $"change {_id}: {detail}",
            OperationId = _id,
        }, CancellationToken.None);

    private ChangeView View() => new(_env, _id, S.Tier, S.Description, S.Author, S.Phase, [.. S.Versions], [.. S.Findings], [.. S.Plan],
        [.. S.Approvals], S.RequiredApprovals, S.Strategy, [.. S.Targets], S.Batch, S.Batches, S.HaltReason, [.. S.Tags], [.. S.History],
        S.SubmittedAt, S.Version, S.Direction);
}
