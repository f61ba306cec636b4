using ControlPlane.Silo.Bootstrap;
using ControlPlane.Silo.Security;
using Grpc.AspNetCore.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ControlPlane.Silo.Catalog;

/// <summary>
/// Wiring of the catalog's supervision and reachability: <see cref="CatalogHealth"/>, the <see cref="CatalogSupervisor"/>,
/// and what gRPC health reports for each service name (docs/catalog.md, "Health").
/// </summary>
internal static class CatalogHosting
{
    /// <summary>gRPC health name that is SERVING only while commands are accepted (the catalog is reachable).</summary>
    public const string CommandsHealthName = "controlplane.v1.commands";

    private const string SiloCheck = "silo";
    private const string CatalogCheck = "catalog";

    /// <summary>
    /// The <see cref="CatalogSynchronyKeeper"/>, registered before Orleans so that it stops after Orleans: hosted
    /// services stop in reverse order, and Orleans leaving the cluster writes to the catalog. Stopped first, the keeper
    /// could no longer stop the primary waiting for a standby that went away, and the silo's shutdown would hang on
    /// that commit until its timeout (seen: 40 s, then the instances were left running).
    /// </summary>
    public static void AddControlPlaneCatalogSynchrony(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CatalogSynchronyKeeper>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CatalogSynchronyKeeper>());
    }

    public static void AddControlPlaneCatalog(this WebApplicationBuilder builder, EmbeddedInstances instances)
    {
        builder.Services.AddSingleton(sp => new CatalogHealth(sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), instances.Catalog is not null, instances.CatalogDescription, sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ControlPlane.Grains.Failover.CatalogWriteStatus>()));
        builder.Services.AddSingleton<ControlPlane.Grains.Catalog.ICatalogVantagePoint>(sp => sp.GetRequiredService<CatalogHealth>());
        builder.Services.AddHostedService<CatalogPromoter>();
        builder.Services.AddSingleton<CatalogSupervisor>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CatalogSupervisor>());
        builder.Services.AddSingleton<CatalogHealthCheck>();
        builder.Services.AddSingleton<CatalogBackupService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CatalogBackupService>());
    }

    /// <summary>
    /// Health checks and what each gRPC health service name reports. "" (the whole server) and the query-only
    /// services report the silo alone: it serves queries and watches from memory whatever the catalog's state, and a
    /// liveness probe must not restart a silo because its catalog is away. Every service with a mutating RPC, and
    /// <see cref="CommandsHealthName"/>, also require the catalog, so a load balancer can send commands elsewhere.
    /// </summary>
    public static void AddControlPlaneHealth(this IServiceCollection services)
    {
        var (commandServices, queryServices) = ServiceNames();
        services.AddGrpcHealthChecks(o =>
            {
                o.Services.Clear();
                o.Services.Map("", c => c.Name == SiloCheck);
                foreach (var service in queryServices) o.Services.Map(service, c => c.Name == SiloCheck);
                foreach (var service in commandServices) o.Services.Map(service, _ => true);
                o.Services.Map(CommandsHealthName, _ => true);
            })
            .AddCheck(SiloCheck, () => HealthCheckResult.Healthy())
            .AddCheck<CatalogHealthCheck>(CatalogCheck);
    }

    /// <summary>Command and query service names, for docs and tests.</summary>
    public static (IReadOnlyList<string> Commands, IReadOnlyList<string> Queries) ServiceNames()
    {
        IReadOnlyCollection<MethodPermission> all;
        try
        {
            all = PermissionTable.ForControlPlane().All;
        }
        catch (InvalidOperationException ex)
        {
            throw new Hosting.ControlPlaneConfigurationException(ex.Message);
        }
        var commands = all.Where(p => p.Mutating).Select(p => p.Method.Service.FullName).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var queries = all.Select(p => p.Method.Service.FullName).Distinct(StringComparer.Ordinal).Except(commands).Order(StringComparer.Ordinal).ToList();
        return (commands, queries);
    }
}

/// <summary>Unhealthy while the catalog is known unreachable; reads <see cref="CatalogHealth"/>, never the catalog itself.</summary>
internal sealed class CatalogHealthCheck(CatalogHealth health) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var s = health.Current;
        return Task.FromResult(s.Reachable
            ? HealthCheckResult.Healthy($"catalog reachable since {s.Since:u}")
            : HealthCheckResult.Unhealthy(CatalogHealth.CommandsRefused(s)));
    }
}
