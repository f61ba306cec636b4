using ControlPlane.Grains.Health;
using ControlPlane.Grains.Pools;
using ControlPlane.Grains.Security;
using ControlPlane.Grains.Tenants;

namespace ControlPlane.Silo.Pools;

/// <summary>
/// The embedded local fleet's demo tenants, with three different plans on every tier, so the README tour shows
/// budgets at work. Registered once; a tenant already there (perhaps re-planned by an operator) is left alone.
/// </summary>
internal static class DemoTenants
{
    public static readonly IReadOnlyList<(string Name, int Weight, int Min, int Max)> Plans =
    [
        ("acme", 3, 5, 40),
        ("globex", 2, 2, 20),
        ("initech", 1, 1, 10),
    ];

    public static async Task RegisterAsync(IClusterClient cluster, string environment, IReadOnlyList<TierSpec> tiers)
    {
        foreach (var (name, weight, min, max) in Plans)
        {
            var tenant = cluster.GetGrain<ITenantGrain>(TenantKeys.Of(environment, name));
            if (await tenant.Get() is not null) continue;
            await tenant.Register(tiers.Select(t => new TenantPlan(t.Name, weight, min, max)).ToList(), [], AuditEntry.ControlPlane);
        }
    }
}
