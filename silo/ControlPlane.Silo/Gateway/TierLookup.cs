using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using Grpc.Core;

namespace ControlPlane.Silo.Gateway;

/// <summary>Finds a registered tier for a request, or answers NOT_FOUND naming the tiers that exist.</summary>
internal static class TierLookup
{
    public static async Task<(string Env, string Tier)> RequireAsync(IClusterClient cluster, string env, string tier)
    {
        var names = await cluster.GetGrain<IFleetGrain>(env).ListTiers();
        if (!names.Contains(tier)) throw NotFound(env, tier, names);
        return (env, tier);
    }

    public static RpcException NotFound(string env, string tier, IReadOnlyList<string> names) =>
        RequestValidation.NotFound(names.Count == 0
            ? $"tier '{tier}' not found: environment '{env}' has no tiers."
            : $"tier '{tier}' not found in environment '{env}'; its tiers are: {string.Join(", ", names)}.");

    public static RpcException NotReported(string tier) =>
        new(new Status(StatusCode.Unavailable, $"tier '{tier}' is registered but has not reported yet; retry in a second."));

    public static async Task<TierSnapshot> SnapshotAsync(IClusterClient cluster, string env, string tier)
    {
        await RequireAsync(cluster, env, tier);
        return await cluster.GetGrain<ITierGrain>(FleetKeys.Tier(env, tier)).GetSnapshot() ?? throw NotReported(tier);
    }
}
