using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Telemetry;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Pools;

[GenerateSerializer, Alias("controlplane.PoolState")]
public sealed class PoolState
{
    [Id(0)] public PoolSettings Settings { get; set; } = new();
    [Id(1)] public List<LeaseRecord> Leases { get; set; } = [];
    [Id(2)] public long LastLease { get; set; }
    [Id(3)] public List<PoolDecision> Decisions { get; set; } = [];
    [Id(4)] public long LastDecision { get; set; }
}

/// <summary>
/// The pool of one tier. Gathers facts (plans from the tenant registry, samples from the replicas), asks
/// <see cref="PoolPlanner"/> and <see cref="LeakPolicy"/>, persists, then acts (terminations go down to the
/// replica that owns the connection). Renewals only move an expiry in memory: after a restart every live lease
/// gets one TTL of grace (<see cref="LeaseExpiry.Grace"/>), so a renewal never costs a catalog write.
/// </summary>
public sealed partial class PoolGrain(
    [PersistentState("pool", FleetKeys.Storage)] IPersistentState<PoolState> state,
    PoolMetrics metrics,
    ILogger<PoolGrain> logger) : Grain, IPoolGrain
{
    private const int DecisionsKept = 200;
    private const int EndedKept = 200;
    private readonly Dictionary<string, LeaseRecord> _ended = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PoolStatsReport> _stats = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OpenWaitWindow> _waits = new(StringComparer.Ordinal);
    private Dictionary<string, TenantPlan> _plans = new(StringComparer.Ordinal);
    // The tenants' plans and the control plane's own (ControlPlaneSessions); rebuilt when a plan changes.
    private IReadOnlyDictionary<string, TenantPlan>? _withBuiltIn;
    private IGrainTimer? _timer;
    private string _env = "";
    private string _tier = "";

    private IReadOnlyDictionary<string, TenantPlan> Plans => _withBuiltIn ??= ControlPlaneSessions.WithBuiltIn(_plans, _tier);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString().Split('/');
        (_env, _tier) = (key[0], key.Length > 1 ? key[1] : "");
        var plans = await GrainFactory.GetGrain<ITenantRegistryGrain>(_env).PlansFor(_tier);
        _plans = new Dictionary<string, TenantPlan>(plans, StringComparer.Ordinal);
        state.State.Leases = LeaseExpiry.Grace(state.State.Leases, DateTimeOffset.UtcNow).ToList();
        _timer = this.RegisterGrainTimer(ExpireAsync, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.FromSeconds(1),
            Period = TimeSpan.FromSeconds(1),
            Interleave = false,
        });
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        metrics.Forget(_env, _tier);
        return Task.CompletedTask;
    }

    public async Task<LeaseView> Acquire(string tenant, string service, int requested, LeaseAccess access, int ttlSeconds, string principal)
    {
        if (!Plans.TryGetValue(tenant, out var plan))
            throw new PoolRefusedException($"tenant '{tenant}' has no plan on tier '{_tier}'; give it one with UpdateTenantPlan.");
        var ttl = LeaseExpiry.TtlFor(ttlSeconds, state.State.Settings);
        var capacity = CapacityFor(access)
            ?? throw new PoolRefusedException($"the capacity of tier '{_tier}' ({Describe(access)}) is not known yet: no sample from its {(access == LeaseAccess.ReadWrite ? "primary" : "standbys")}; retry in a few seconds.");
        var now = DateTimeOffset.UtcNow;
        var id = $"{_tier}.{tenant}.{state.State.LastLease + 1}";
        var lease = new LeaseRecord(id, _tier, tenant, service, requested, access, 0, ttl, now, now + ttl, LeaseState.Active, 1);
        var candidate = Leases(access).Append(lease).ToList();
        var result = PoolPlanner.Plan(capacity, Plans, candidate);
        if (!result.Feasible)
        {
            var reason = $"lease for {tenant}/{service} ({requested} {Describe(access)}) refused: {result.Shortfall}";
            await RecordAsync(PoolDecisionKind.Refusal, reason, [$"plan of {tenant}: weight {plan.Weight}, min {plan.Min}, max {plan.Max}"], principal);
            throw new PoolRefusedException(reason + "; nothing is over-committed. Release leases, lower minimums or raise the capacity.");
        }
        state.State.LastLease++;
        state.State.Leases.Add(lease);
        var changes = Apply(access, result);
        if (changes.Count > 1) await RecordAsync(PoolDecisionKind.Rebalance, $"lease {id} acquired by {principal}", changes, principal);
        else await state.WriteStateAsync();
        logger.LogInformation("Pool {Environment}/{Tier}: lease {Lease} for {Tenant}/{Service} granted {Granted} of {Requested}",
            _env, _tier, id, tenant, service, Find(id)!.Granted, requested);
        Publish();
        return View(Find(id)!);
    }

    public Task<LeaseView> Renew(string leaseId)
    {
        var lease = Find(leaseId);
        var renewed = lease is null ? null : LeaseExpiry.Renew(lease, DateTimeOffset.UtcNow);
        if (renewed is null) throw new KeyNotFoundException(EndedMessage(leaseId));
        Replace(renewed);
        return Task.FromResult(View(renewed));
    }

    public async Task<LeaseView> Release(string leaseId, string principal)
    {
        if (Find(leaseId) is not { } lease)
        {
            return _ended.TryGetValue(leaseId, out var ended) ? View(ended) : throw new KeyNotFoundException(EndedMessage(leaseId));
        }
        await EndAsync([lease with { State = LeaseState.Released, Granted = 0, Version = lease.Version + 1 }], $"lease {leaseId} released by {principal}", principal);
        return View(_ended[leaseId]);
    }

    public Task<LeaseView?> GetLease(string leaseId) =>
        Task.FromResult(Find(leaseId) is { } l ? View(l) : _ended.TryGetValue(leaseId, out var e) ? View(e) : null);

    public Task<IReadOnlyList<LeaseView>> ListLeases() =>
        Task.FromResult<IReadOnlyList<LeaseView>>(state.State.Leases.OrderBy(l => l.Id, StringComparer.Ordinal).Select(View).ToList());

    public Task<LeaseRecord> ReportStats(string leaseId, PoolStatsReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var lease = Find(leaseId) ?? throw new KeyNotFoundException(EndedMessage(leaseId));
        _stats[leaseId] = report;
        if (!_waits.TryGetValue(leaseId, out var waits)) _waits[leaseId] = waits = new OpenWaitWindow();
        waits.Add(report);
        return Task.FromResult(lease);
    }

    public Task<PoolSettings> GetSettings() => Task.FromResult(state.State.Settings);

    public async Task SetSettings(PoolSettings settings, string principal)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var errors = settings.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join(" ", errors));
        var old = state.State.Settings;
        state.State.Settings = settings;
        await RecordAsync(PoolDecisionKind.Settings, $"settings changed by {principal}", [$"from {old}", $"to {settings}"], principal);
        await RebalanceAsync("settings changed", principal);
    }

    public Task<IReadOnlyList<PoolDecision>> ListDecisions(int limit) =>
        Task.FromResult<IReadOnlyList<PoolDecision>>(state.State.Decisions.TakeLast(Math.Clamp(limit, 1, DecisionsKept)).ToList());

    public async Task PlanChanged(string tenant, TenantPlan? plan)
    {
        if (ControlPlaneSessions.Reserved(tenant) is not null) return;
        if (plan is null) _plans.Remove(tenant);
        else _plans[tenant] = plan;
        _withBuiltIn = null;
        await RebalanceAsync($"plan of {tenant} changed: {(plan is null ? "none" : $"weight {plan.Weight}, min {plan.Min}, max {plan.Max}")}", "control-plane");
    }

    private async Task ExpireAsync(CancellationToken ct)
    {
        var (_, expired) = LeaseExpiry.Expire(state.State.Leases, DateTimeOffset.UtcNow);
        if (expired.Count == 0) return;
        logger.LogWarning("Pool {Environment}/{Tier}: {Count} lease(s) expired unrenewed: {Leases}", _env, _tier, expired.Count, string.Join(", ", expired.Select(l => l.Id)));
        await EndAsync(expired, $"{expired.Count} lease(s) expired without renewal: {string.Join(", ", expired.Select(l => l.Id))}", "control-plane");
    }

    /// <summary>Ends leases (released or expired), returns their budget, rebalances the rest and persists once.</summary>
    private async Task EndAsync(IReadOnlyList<LeaseRecord> ended, string reason, string principal)
    {
        foreach (var lease in ended)
        {
            state.State.Leases.RemoveAll(l => l.Id == lease.Id);
            _stats.Remove(lease.Id);
            _waits.Remove(lease.Id);
            if (_ended.Count >= EndedKept) _ended.Remove(_ended.Values.OrderBy(l => l.ExpiresAt).First().Id);
            _ended[lease.Id] = lease;
        }
        var kind = ended.All(l => l.State == LeaseState.Expired) ? PoolDecisionKind.Expiry : PoolDecisionKind.Rebalance;
        var changes = ended.Select(l => $"lease {l.Id} ({l.Tenant}/{l.Service}) ended: {l.State.ToString().ToLowerInvariant()}").ToList();
        foreach (var access in ended.Select(l => l.Access).Distinct())
        {
            if (CapacityFor(access) is { } capacity) changes.AddRange(Apply(access, PoolPlanner.Plan(capacity, Plans, Leases(access))));
        }
        await RecordAsync(kind, reason, changes, principal);
        Publish();
    }

    private async Task RebalanceAsync(string reason, string principal)
    {
        var changes = new List<string>();
        foreach (var access in new[] { LeaseAccess.ReadWrite, LeaseAccess.ReadOnly })
        {
            if (CapacityFor(access) is { } capacity) changes.AddRange(Apply(access, PoolPlanner.Plan(capacity, Plans, Leases(access))));
        }
        if (changes.Count > 0) await RecordAsync(PoolDecisionKind.Rebalance, reason, changes, principal);
        Publish();
    }

    /// <summary>Sets every lease of <paramref name="access"/> to its planned grant; answers what changed.</summary>
    private List<string> Apply(LeaseAccess access, PoolPlan plan)
    {
        var changes = new List<string>();
        foreach (var lease in Leases(access))
        {
            var grant = plan.LeaseGrants.GetValueOrDefault(lease.Id);
            if (grant == lease.Granted) continue;
            changes.Add($"lease {lease.Id} ({lease.Tenant}/{lease.Service}): {lease.Granted} -> {grant}");
            Replace(lease with { Granted = grant, Version = lease.Version + 1 });
        }
        return changes;
    }

    private async Task RecordAsync(PoolDecisionKind kind, string reason, IReadOnlyList<string> details, string principal)
    {
        var decision = new PoolDecision(++state.State.LastDecision, DateTimeOffset.UtcNow, kind, reason, details, principal);
        state.State.Decisions.Add(decision);
        if (state.State.Decisions.Count > DecisionsKept) state.State.Decisions.RemoveRange(0, state.State.Decisions.Count - DecisionsKept);
        await state.WriteStateAsync();
    }

    private List<LeaseRecord> Leases(LeaseAccess access) => state.State.Leases.Where(l => l.Access == access).ToList();

    private LeaseRecord? Find(string id) => state.State.Leases.FirstOrDefault(l => l.Id == id);

    private void Replace(LeaseRecord lease)
    {
        var i = state.State.Leases.FindIndex(l => l.Id == lease.Id);
        if (i >= 0) state.State.Leases[i] = lease;
    }

    private string EndedMessage(string leaseId) => _ended.TryGetValue(leaseId, out var e)
        ? $"lease '{leaseId}' has ended ({e.State.ToString().ToLowerInvariant()}); acquire a new one."
        : $"lease '{leaseId}' not found on tier '{_tier}'; it ended or never existed: acquire a new one.";

    private static string Describe(LeaseAccess access) => access == LeaseAccess.ReadWrite ? "read_write" : "read_only";
}
