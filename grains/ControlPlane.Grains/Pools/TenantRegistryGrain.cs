using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Tenants;

namespace ControlPlane.Grains.Pools;

/// <summary>
/// The registry's state, unchanged in shape since tenants were its rows: <see cref="Tenants"/> still holds every tenant's
/// name, plans and creation time, so catalogs written before tenants became grains read as they are, and each
/// <see cref="TenantGrain"/> adopts its row on first activation. <see cref="Lifecycles"/> was added with the tenant
/// grains; a tenant absent from it is active.
/// </summary>
[GenerateSerializer, Alias("controlplane.TenantRegistryState")]
public sealed class TenantRegistryState
{
    [Id(0)] public Dictionary<string, TenantRecord> Tenants { get; set; } = new(StringComparer.Ordinal);
    [Id(1)] public Dictionary<string, TenantLifecycle> Lifecycles { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// The index of an environment's tenants: name, plans and lifecycle of each, written by the tenant grains (which own
/// them). Pools read every active plan of their tier here in one call when they activate; listings read it too.
/// </summary>
public sealed class TenantRegistryGrain(
    [PersistentState("tenants", FleetKeys.Storage)] IPersistentState<TenantRegistryState> state) : Grain, ITenantRegistryGrain
{
    /// <summary>Bounds the registry's state (and a fuzzer's reach).</summary>
    public const int MaxTenants = 20_000;

    public Task<bool> HasRoomFor(string tenant) =>
        Task.FromResult(state.State.Tenants.ContainsKey(tenant) || state.State.Tenants.Count < MaxTenants);

    public async Task Index(TenantRecord record, TenantLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (!state.State.Tenants.ContainsKey(record.Name) && state.State.Tenants.Count >= MaxTenants)
            throw new PoolRefusedException($"the environment already has {MaxTenants} tenants, the most it may hold.");
        if (state.State.Tenants.TryGetValue(record.Name, out var old) && old == record && LifecycleOf(record.Name) == lifecycle) return;
        state.State.Tenants[record.Name] = record;
        state.State.Lifecycles[record.Name] = lifecycle;
        await state.WriteStateAsync();
    }

    public Task<TenantRecord?> Get(string tenant) => Task.FromResult(state.State.Tenants.GetValueOrDefault(tenant));

    public Task<TenantLifecycle?> GetLifecycle(string tenant) =>
        Task.FromResult(state.State.Tenants.ContainsKey(tenant) ? LifecycleOf(tenant) : (TenantLifecycle?)null);

    public Task<IReadOnlyList<TenantRecord>> List() =>
        Task.FromResult<IReadOnlyList<TenantRecord>>(state.State.Tenants.Values.OrderBy(t => t.Name, StringComparer.Ordinal).ToList());

    public Task<IReadOnlyList<TenantIndexEntry>> ListIndex() =>
        Task.FromResult<IReadOnlyList<TenantIndexEntry>>(state.State.Tenants.Values.OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => new TenantIndexEntry(t, LifecycleOf(t.Name))).ToList());

    /// <summary>Plans of the tenants that may hold leases: active ones (and ones registering, whose plans are being pushed).</summary>
    public Task<IReadOnlyDictionary<string, TenantPlan>> PlansFor(string tier)
    {
        var plans = new Dictionary<string, TenantPlan>(StringComparer.Ordinal);
        foreach (var tenant in state.State.Tenants.Values)
        {
            if (LifecycleOf(tenant.Name) is not (TenantLifecycle.Active or TenantLifecycle.Registering)) continue;
            if (tenant.PlanFor(tier) is { } plan) plans[tenant.Name] = plan;
        }
        return Task.FromResult<IReadOnlyDictionary<string, TenantPlan>>(plans);
    }

    private TenantLifecycle LifecycleOf(string tenant) => state.State.Lifecycles.GetValueOrDefault(tenant, TenantLifecycle.Active);
}
