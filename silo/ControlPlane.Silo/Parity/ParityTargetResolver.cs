using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Parity;
using ControlPlane.Grains.Tenants;
using ControlPlane.Postgres.Tenants;
using ControlPlane.Silo.Gateway;
using Grpc.Core;

namespace ControlPlane.Silo.Parity;

/// <summary>
/// Turns a parsed target into tier, database and schema: a tier must exist (NOT_FOUND otherwise), an empty database
/// is the tier's own, a tenant is its schema on the one tier it is placed on as a schema (or the tier it names).
/// </summary>
internal sealed class ParityTargetResolver(IClusterClient cluster)
{
    public async Task<ParityTarget> ResolveAsync(string env, ParityTargetRef target, string field = "target")
    {
        var tier = target.Tier;
        var schema = target.Schema;
        if (target.IsTenant) (tier, schema) = await TenantSchemaAsync(env, target, field);
        await TierLookup.RequireAsync(cluster, env, tier);
        var database = target.Database;
        if (database.Length == 0)
        {
            var spec = await cluster.GetGrain<ITierGrain>(FleetKeys.Tier(env, tier)).GetSpec()
                ?? throw new RpcException(new Status(StatusCode.Unavailable, $"tier '{tier}' is registered but has not reported yet; retry in a second."));
            database = spec.Replicas.Count > 0 ? spec.Replicas[0].Database : "";
        }
        return new ParityTarget(tier, database, schema);
    }

    private async Task<(string Tier, string Schema)> TenantSchemaAsync(string env, ParityTargetRef target, string field)
    {
        var view = await cluster.GetGrain<ITenantGrain>(TenantKeys.Of(env, target.Tenant)).Get();
        if (view is null || view.State is TenantLifecycle.Erased)
            throw RequestValidation.NotFound($"{field}: tenant '{target.Tenant}' not found in environment '{env}'.");
        var tiers = view.Placements.Where(p => p.Kind == PlacementKind.Schema).Select(p => p.Tier).Order(StringComparer.Ordinal).ToList();
        var shown = ParityTargets.TenantPrefix + target.Tenant + (target.Tier.Length > 0 ? "@" + target.Tier : "");
        if (tiers.Count == 0)
            throw RequestValidation.Invalid($"{field} '{shown}' is invalid: tenant {target.Tenant} has no schema of its own on any tier (its rows live in shared tables).");
        string tier;
        if (target.Tier.Length > 0)
        {
            if (!tiers.Contains(target.Tier))
                throw RequestValidation.Invalid($"{field} '{shown}' is invalid: tenant {target.Tenant} has no schema on tier {target.Tier}; it has one on: {string.Join(", ", tiers)}.");
            tier = target.Tier;
        }
        else if (tiers.Count > 1)
        {
            throw RequestValidation.Invalid($"{field} '{shown}' is ambiguous: tenant {target.Tenant} has a schema on {string.Join(", ", tiers)}; name one, e.g. {ParityTargets.TenantPrefix}{target.Tenant}@{tiers[0]}.");
        }
        else
        {
            tier = tiers[0];
        }
        return (tier, TenantProvisioner.RoleOf(target.Tenant));
    }
}
