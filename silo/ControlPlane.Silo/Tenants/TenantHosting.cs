using ControlPlane.Grains.Tenants;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Tenants;

/// <summary>
/// Tenant services: the environment's pseudonym key file (docs/tenants.md, anonymisation), and the schedule of the
/// isolation audit and the cross-tenant probe (<c>ControlPlane:Tenants</c>, validated at start) with the keeper that
/// keeps each tier's audit grain, and so its timers, active.
/// </summary>
internal static class TenantHosting
{
    public static void AddControlPlaneTenants(WebApplicationBuilder builder, ControlPlaneOptions options)
    {
        builder.Services.AddSingleton(new PseudonymKeyFile(Path.Combine(options.DataDirectory, "secrets", "tenants", $"pseudonym.{options.Environment}.key")));
        var audit = builder.Configuration.GetSection(TenantAuditOptions.Section).Get<TenantAuditOptions>() ?? new TenantAuditOptions();
        var errors = audit.Validate();
        if (errors.Count > 0) throw new ControlPlaneConfigurationException(string.Join(Environment.NewLine, errors));
        builder.Services.Configure<TenantAuditOptions>(builder.Configuration.GetSection(TenantAuditOptions.Section));
        builder.Services.AddHostedService<TenantAuditKeeper>();
    }
}

/// <summary>Keeps every tier's tenant audit grain active so its scheduled audit and probe rounds run; nothing when both are off.</summary>
internal sealed class TenantAuditKeeper(IClusterClient cluster, IOptions<ControlPlaneOptions> options, IOptions<TenantAuditOptions> audit, ILogger<TenantAuditKeeper> logger)
    : TierGrainKeeper(cluster, options.Value.Environment, logger)
{
    protected override bool Enabled => audit.Value.AuditInterval > TimeSpan.Zero || audit.Value.ProbeInterval > TimeSpan.Zero;

    protected override Task EnsureAsync(IClusterClient cluster, string tierKey) => cluster.GetGrain<ITenantAuditGrain>(tierKey).Ensure();
}
