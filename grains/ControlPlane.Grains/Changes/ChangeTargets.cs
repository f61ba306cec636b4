using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Grains.Pools;
using ControlPlane.Grains.Tenants;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Tenants;

namespace ControlPlane.Grains.Changes;

/// <summary>
/// The targets of a change on a tier: every tenant schema the control plane knows there (tenants placed as a schema,
/// not erased), sorted, then the tier's shared schema. The first tenants are the canaries: the shared schema, which
/// every shared tenant's rows live in, goes last.
/// </summary>
internal static class ChangeTargets
{
    public const string SharedSchema = "tenant_shared";

    public static async Task<IReadOnlyList<string>> DiscoverAsync(IGrainFactory grains, string env, string tier)
    {
        var schemas = new List<string>();
        foreach (var entry in await grains.GetGrain<ITenantRegistryGrain>(env).ListIndex())
        {
            if (entry.Lifecycle is TenantLifecycle.Erasing or TenantLifecycle.Erased) continue;
            var view = await grains.GetGrain<ITenantGrain>(TenantKeys.Of(env, entry.Record.Name)).Get();
            if (view is null || view.State is TenantLifecycle.Erasing or TenantLifecycle.Erased or TenantLifecycle.Registering) continue;
            if (view.Placements.Any(p => p.Tier == tier && p.Kind == PlacementKind.Schema)) schemas.Add(TenantProvisioner.RoleOf(view.Name));
        }
        schemas.Sort(StringComparer.Ordinal);
        schemas.Add(SharedSchema);
        return schemas;
    }

    /// <summary>The tier's current primary, as its tier grain last saw it.</summary>
    public static async Task<ReplicaEndpoint> PrimaryAsync(IGrainFactory grains, string env, string tier)
    {
        var grain = grains.GetGrain<ITierGrain>(FleetKeys.Tier(env, tier));
        var snapshot = await grain.GetSnapshot() ?? throw new InvalidOperationException($"tier {env}/{tier} has not been probed yet.");
        var spec = await grain.GetSpec() ?? throw new InvalidOperationException($"tier {env}/{tier} is not registered.");
        var primary = spec.Replicas.FirstOrDefault(r => r.Name == snapshot.Primary)
            ?? throw new InvalidOperationException($"tier {env}/{tier} has no known primary.");
        return ReplicaGrain.Endpoint(primary);
    }

    /// <summary>Null when the tier may take the next batch; otherwise why not.</summary>
    public static async Task<string?> HealthRefusalAsync(IGrainFactory grains, string env, string tier)
    {
        var snapshot = await grains.GetGrain<ITierGrain>(FleetKeys.Tier(env, tier)).GetSnapshot();
        if (snapshot is null) return $"tier {tier} has not been probed yet";
        if (snapshot.Health is TierHealth.Down or TierHealth.Unknown) return $"tier {tier} is {snapshot.Health.ToString().ToLowerInvariant()}: {snapshot.HealthReason}";
        return null;
    }
}
