using ControlPlane.Client;
using ControlPlane.Protos.V1;

namespace ControlPlane.IntegrationTests.Tenants;

/// <summary>A test tenant placed on both kinds at once: its own schema on oltp, rows of the shared tables on content.</summary>
internal static class TwoPlacementTenant
{
    /// <summary>The tenant's role (and schema) name, as the test computes it itself.</summary>
    public static string Role(string tenant) => "tenant_" + tenant.Replace('-', '_');

    public static async Task<TenantInfo> RegisterAsync(ControlPlaneClient client, string tenant) =>
        await client.Tenants.RegisterTenantAsync(new TenantRegisterRequest
        {
            Tenant = tenant,
            Placements =
            {
                new TenantPlacement { Tier = "oltp", Kind = PlacementKind.Schema },
                new TenantPlacement { Tier = "content", Kind = PlacementKind.Shared },
            },
        });
}
