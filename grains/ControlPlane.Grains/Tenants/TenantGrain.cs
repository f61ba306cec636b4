using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Pools;
using ControlPlane.Grains.Security;
using ControlPlane.Postgres.Tenants;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Tenants;

[GenerateSerializer, Alias("controlplane.TenantState")]
public sealed class TenantState
{
    /// <summary>False until the tenant is registered (or adopted from the registry).</summary>
    [Id(0)] public bool Exists { get; set; }
    [Id(1)] public TenantLifecycle Lifecycle { get; set; }
    [Id(2)] public List<TenantPlan> Plans { get; set; } = [];
    [Id(3)] public List<TenantPlacement> Placements { get; set; } = [];
    [Id(4)] public TenantOperation? Operation { get; set; }
    [Id(5)] public List<TenantHistoryEntry> History { get; set; } = [];
    [Id(6)] public TenantEraseReport? EraseReport { get; set; }
    [Id(7)] public DateTimeOffset CreatedAt { get; set; }
    [Id(8)] public long Version { get; set; }
    [Id(9)] public long LastOperation { get; set; }

    /// <summary>Per-tier erase reports of the erase under way (collected step by step, sealed by Finish).</summary>
    [Id(10)] public List<TierEraseReport> ErasedTiers { get; set; } = [];

    /// <summary>The last cross-tenant probe run as this tenant.</summary>
    [Id(11)] public TenantProbeResult? Probe { get; set; }

    /// <summary>The declared columns the anonymisation under way replaces (fixed when it starts, so a resume does the same).</summary>
    [Id(12)] public List<PiiColumn> AnonymiseColumns { get; set; } = [];

    /// <summary>Per-tier results of the anonymisation under way (collected step by step, sealed by Finish).</summary>
    [Id(13)] public List<TierAnonymiseReport> AnonymisedTiers { get; set; } = [];

    /// <summary>The last anonymisation's report.</summary>
    [Id(14)] public TenantAnonymiseReport? AnonymiseReport { get; set; }

    /// <summary>The findings of the last isolation audit of each tier the tenant is placed on (its own and the tier-wide ones).</summary>
    [Id(15)] public List<TenantTierAudit> Audits { get; set; } = [];
}

/// <summary>
/// One tenant. Commands go through <see cref="TenantLifecyclePolicy"/>; an accepted one is persisted as an operation
/// (its steps, the next one to run) before anything is done, then run step by step, persisting after each. Steps are
/// idempotent, so a new activation after a silo crash (woken by the reminder) runs the current step again and goes on.
/// A tenant registered before tenants were grains lives only as a registry row: the grain adopts it on activation.
/// </summary>
public sealed partial class TenantGrain(
    [PersistentState("tenant", FleetKeys.Storage)] IPersistentState<TenantState> state,
    IAuditLog audit,
    PseudonymKeyFile pseudonymKey,
    ILogger<TenantGrain> logger) : Grain, ITenantGrain, IRemindable
{
    private const int HistoryKept = 100;
    private const string StepsReminder = "tenant-steps";
    private string _env = "";
    private string _name = "";

    private TenantState S => state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        (_env, _name) = slash < 0 ? (key, "") : (key[..slash], key[(slash + 1)..]);
        if (S.Operation is { Done: false })
        {
            // An operation the previous activation did not finish (a silo crash): continue it soon, outside activation.
            this.RegisterGrainTimer(ResumeAsync, new GrainTimerCreationOptions { DueTime = TimeSpan.FromSeconds(1), Period = Timeout.InfiniteTimeSpan });
        }
        if (S.Exists) return;
        // Migration: a tenant the registry knows but this grain does not was registered before tenants were grains.
        var registry = Registry;
        if (await registry.Get(_name) is not { } legacy) return;
        S.Exists = true;
        S.Lifecycle = await registry.GetLifecycle(_name) ?? TenantLifecycle.Active;
        S.Plans = [.. legacy.Plans];
        S.CreatedAt = legacy.CreatedAt;
        Remember("adopted from the tenant registry (registered before tenants were grains)", AuditEntry.ControlPlane);
        await SaveAsync();
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (S.Operation is { Done: false })
        {
            await ResumeAsync(CancellationToken.None);
            return;
        }
        if (await this.GetReminder(StepsReminder) is { } reminder) await this.UnregisterReminder(reminder);
    }

    /// <summary>Runs the operation under way from its current step; a step that fails again waits for the next reminder.</summary>
    private async Task ResumeAsync(CancellationToken ct)
    {
        if (S.Operation is not { Done: false } op) return;
        logger.LogInformation("Tenant {Environment}/{Tenant}: resuming {Command} {Operation} at step {Step} of {Steps}",
            _env, _name, op.Command, op.Id, op.Next + 1, op.Steps.Count);
        try
        {
            await RunAsync();
        }
        catch (TenantRefusedException e)
        {
            logger.LogWarning("Tenant {Environment}/{Tenant}: {Message}", _env, _name, e.Message);
        }
    }

    public async Task<TenantView> Register(IReadOnlyList<TenantPlan> plans, IReadOnlyList<TenantPlacement> placements, string principal)
    {
        ArgumentNullException.ThrowIfNull(plans);
        ArgumentNullException.ThrowIfNull(placements);
        var decision = Decide(TenantCommand.Register, placements.Select(p => p.Tier).ToList(), plans.Select(p => p.Tier).ToList());
        if (decision.Refusal == TenantRefusal.Exists)
            throw new TenantExistsException($"tenant '{_name}' is already registered ({TenantLifecyclePolicy.Word(S.Lifecycle)}); change its plans with UpdateTenantPlan.");
        Require(decision);
        if (!await Registry.HasRoomFor(_name))
            throw new PoolRefusedException($"the environment already has {TenantRegistryGrain.MaxTenants} tenants, the most it may hold.");
        var resolved = new List<TenantPlacement>();
        foreach (var p in placements) resolved.Add(await ResolveAsync(p));
        S.Exists = true;
        S.Plans = [.. plans.OrderBy(p => p.Tier, StringComparer.Ordinal)];
        S.Placements = [.. resolved.OrderBy(p => p.Tier, StringComparer.Ordinal)];
        S.CreatedAt = DateTimeOffset.UtcNow;
        S.EraseReport = null;
        return await StartAsync(TenantCommand.Register, decision, principal, "");
    }

    public async Task<TenantView> UpdatePlan(TenantPlan plan, string principal)
    {
        ArgumentNullException.ThrowIfNull(plan);
        RequireExists();
        if (S.Lifecycle is TenantLifecycle.Erasing or TenantLifecycle.Erased)
            throw new TenantRefusedException($"tenant '{_name}' is {TenantLifecyclePolicy.Word(S.Lifecycle)}; its plans cannot change.");
        S.Plans = [.. S.Plans.Where(p => p.Tier != plan.Tier).Append(plan).OrderBy(p => p.Tier, StringComparer.Ordinal)];
        Remember($"plan on {plan.Tier}: weight {plan.Weight}, min {plan.Min}, max {plan.Max}", principal);
        await SaveAsync();
        await Registry.Index(Record(), S.Lifecycle);
        if (S.Lifecycle == TenantLifecycle.Active) await Pool(plan.Tier).PlanChanged(_name, plan);
        return View();
    }

    public Task<TenantView> Suspend(string reason, string principal) => CommandAsync(TenantCommand.Suspend, principal, reason);

    public Task<TenantView> Resume(string principal) => CommandAsync(TenantCommand.Resume, principal, "");

    public Task<TenantView> Erase(string principal) => CommandAsync(TenantCommand.Erase, principal, "");

    public Task<TenantView?> Get() => Task.FromResult(S.Exists ? View() : null);

    private async Task<TenantView> CommandAsync(TenantCommand command, string principal, string reason)
    {
        RequireExists();
        var decision = Decide(command, S.Placements.Select(p => p.Tier).ToList(), S.Plans.Select(p => p.Tier).ToList());
        Require(decision);
        if (!decision.NoChange) return await StartAsync(command, decision, principal, reason);
        // The same operation under way (perhaps stuck on a failed step): this call retries it.
        if (S.Operation is { Done: false }) await RunAsync();
        return View();
    }

    private TenantDecision Decide(TenantCommand command, IReadOnlyList<string> placementTiers, IReadOnlyList<string> planTiers) =>
        TenantLifecyclePolicy.Decide(S.Exists ? S.Lifecycle : null, S.Operation, command, placementTiers, planTiers);

    private void Require(TenantDecision decision)
    {
        if (decision.Refusal == TenantRefusal.NotFound) throw new KeyNotFoundException($"tenant '{_name}' not found in environment '{_env}'; register it first.");
        if (!decision.Allowed) throw new TenantRefusedException($"tenant '{_name}': {decision.Reason}.");
    }

    private void RequireExists()
    {
        if (!S.Exists) throw new KeyNotFoundException($"tenant '{_name}' not found in environment '{_env}'; register it first.");
    }

    /// <summary>Persists the decision as an operation (and the reminder that resumes it), then runs its steps.</summary>
    private async Task<TenantView> StartAsync(TenantCommand command, TenantDecision decision, string principal, string reason)
    {
        var id = $"{_name}.{++S.LastOperation}";
        S.Operation = new TenantOperation(id, command, decision.Target, decision.Steps, 0, principal, DateTimeOffset.UtcNow, Reason: reason);
        S.Lifecycle = decision.Transient;
        if (command == TenantCommand.Erase) S.ErasedTiers = [];
        Remember($"{TenantLifecyclePolicy.Word(command)} started ({id}, {decision.Steps.Count} steps){(reason.Length > 0 ? ": " + reason : "")}", principal);
        await SaveAsync();
        await this.RegisterOrUpdateReminder(StepsReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        await RunAsync();
        return View();
    }

    private void Remember(string what, string principal)
    {
        S.History.Add(new TenantHistoryEntry(DateTimeOffset.UtcNow, S.Lifecycle, what, principal));
        if (S.History.Count > HistoryKept) S.History.RemoveRange(0, S.History.Count - HistoryKept);
    }

    private async Task SaveAsync()
    {
        S.Version++;
        await state.WriteStateAsync();
    }

    private TenantRecord Record() => new(_name, S.Plans, S.CreatedAt);

    private TenantView View() => new(_env, _name, S.Lifecycle, S.Plans, S.Placements, S.Operation, S.History, S.EraseReport, S.CreatedAt, S.Version, S.Probe, S.AnonymiseReport, S.Audits);

    private ITenantRegistryGrain Registry => GrainFactory.GetGrain<ITenantRegistryGrain>(_env);

    private IPoolGrain Pool(string tier) => GrainFactory.GetGrain<IPoolGrain>(FleetKeys.Tier(_env, tier));

    private ITierGrain Tier(string tier) => GrainFactory.GetGrain<ITierGrain>(FleetKeys.Tier(_env, tier));

    private void Audit(string action, string outcome, string detail, string operationId, string principal) =>
        _ = audit.AppendAsync(new AuditEntry
        {
            Principal = principal,
            Rpc = $"tenants/{action}",
            Outcome = outcome,
            Target = TenantKeys.Of(_env, _name),
            Detail = detail,
            OperationId = operationId,
        }, CancellationToken.None);

    /// <summary>The placement with its role and password file, from where the tier keeps its own secrets.</summary>
    private async Task<TenantPlacement> ResolveAsync(TenantPlacement placement)
    {
        var spec = await Tier(placement.Tier).GetSpec() ?? throw new KeyNotFoundException($"tier '{placement.Tier}' not found in environment '{_env}'.");
        var primary = spec.Replicas.FirstOrDefault(r => r.Name == spec.InitialPrimary) ?? spec.Replicas[0];
        var directory = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(primary.PasswordFile))!, "tenants");
        return placement with { Role = TenantProvisioner.RoleOf(_name), PasswordFile = Path.Combine(directory, $"{placement.Tier}.{_name}.password") };
    }
}
