using ControlPlane.Grains.Fleet;

namespace ControlPlane.Grains.Pools;

[GenerateSerializer, Alias("controlplane.TenantRegistryState")]
public sealed class TenantRegistryState
{
    [Id(0)] public Dictionary<string, TenantRecord> Tenants { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The tenants of one environment and their plans, in one grain: plans are small and read by every pool of the
/// environment. A plan change is persisted, then pushed to the pool of the tier it concerns, which rebalances.
/// </summary>
public sealed class TenantRegistryGrain(
    [PersistentState("tenants", FleetKeys.Storage)] IPersistentState<TenantRegistryState> state) : Grain, ITenantRegistryGrain
{
    /// <summary>Bounds the registry's state (and a fuzzer's reach).</summary>
    public const int MaxTenants = 20_000;

    public async Task<TenantRecord> Register(string tenant, IReadOnlyList<TenantPlan> plans)
    {
        ArgumentNullException.ThrowIfNull(plans);
        if (state.State.Tenants.ContainsKey(tenant)) throw new TenantExistsException($"tenant '{tenant}' is already registered; change its plans with UpdateTenantPlan.");
        if (state.State.Tenants.Count >= MaxTenants) throw new PoolRefusedException($"the environment already has {MaxTenants} tenants, the most it may hold.");
        var record = new TenantRecord(tenant, plans.OrderBy(p => p.Tier, StringComparer.Ordinal).ToList(), DateTimeOffset.UtcNow);
        state.State.Tenants[tenant] = record;
        await state.WriteStateAsync();
        foreach (var plan in record.Plans) await Pool(plan.Tier).PlanChanged(tenant, plan);
        return record;
    }

    public async Task<TenantRecord> UpdatePlan(string tenant, TenantPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (!state.State.Tenants.TryGetValue(tenant, out var record)) throw new KeyNotFoundException($"tenant '{tenant}' not found.");
        var plans = record.Plans.Where(p => p.Tier != plan.Tier).Append(plan).OrderBy(p => p.Tier, StringComparer.Ordinal).ToList();
        record = record with { Plans = plans };
        state.State.Tenants[tenant] = record;
        await state.WriteStateAsync();
        await Pool(plan.Tier).PlanChanged(tenant, plan);
        return record;
    }

    public Task<TenantRecord?> Get(string tenant) => Task.FromResult(state.State.Tenants.GetValueOrDefault(tenant));

    public Task<IReadOnlyList<TenantRecord>> List() =>
        Task.FromResult<IReadOnlyList<TenantRecord>>(state.State.Tenants.Values.OrderBy(t => t.Name, StringComparer.Ordinal).ToList());

    public Task<IReadOnlyDictionary<string, TenantPlan>> PlansFor(string tier)
    {
        var plans = new Dictionary<string, TenantPlan>(StringComparer.Ordinal);
        foreach (var tenant in state.State.Tenants.Values)
        {
            if (tenant.PlanFor(tier) is { } plan) plans[tenant.Name] = plan;
        }
        return Task.FromResult<IReadOnlyDictionary<string, TenantPlan>>(plans);
    }

    private IPoolGrain Pool(string tier) => GrainFactory.GetGrain<IPoolGrain>(FleetKeys.Tier(this.GetPrimaryKeyString(), tier));
}
