using ControlPlane.Grains.Tenants;
using ControlPlane.Silo.Hosting;

namespace ControlPlane.Silo.Tenants;

/// <summary>Tenant services: the environment's pseudonym key file (docs/tenants.md, anonymisation).</summary>
internal static class TenantHosting
{
    public static void AddControlPlaneTenants(WebApplicationBuilder builder, ControlPlaneOptions options) =>
        builder.Services.AddSingleton(new PseudonymKeyFile(Path.Combine(options.DataDirectory, "secrets", "tenants", $"pseudonym.{options.Environment}.key")));
}
