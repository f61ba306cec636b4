using System.Net;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Telemetry;
using ControlPlane.Silo.Catalog;
using ControlPlane.Silo.Fleet;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosts;
using ControlPlane.Silo.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ControlPlane.Silo.Hosting;

/// <summary>Host wiring, one method per concern, so <see cref="ControlPlaneHost"/> reads as a table of contents.</summary>
internal static class HostingExtensions
{
    private const string Invariant = "Npgsql";

    /// <summary>gRPC (HTTP/2 only) and metrics (HTTP/1.1) each on their own port of the listen address.</summary>
    public static EndpointPorts AddControlPlaneEndpoints(this WebApplicationBuilder builder, ControlPlaneOptions options)
    {
        var ports = new EndpointPorts { Grpc = options.GrpcPort, Metrics = options.MetricsPort };
        var address = IPAddress.Parse(options.ListenAddress);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(address, options.GrpcPort, l =>
            {
                l.Protocols = HttpProtocols.Http2;
                GatewayTls.Apply(l, options.Tls);
            });
            k.Listen(address, options.MetricsPort, l => l.Protocols = HttpProtocols.Http1);
            k.Limits.MaxRequestBodySize = 4 * 1024 * 1024;
        });
        builder.Services.AddSingleton(ports);
        return ports;
    }

    /// <summary>Orleans with membership, grain state and reminders in the catalog; tier changes on memory streams.</summary>
    public static void AddControlPlaneOrleans(this WebApplicationBuilder builder, ControlPlaneOptions options, string catalog)
    {
        var siloPort = options.Cluster.SiloPort != 0 ? options.Cluster.SiloPort : ControlPlane.Postgres.Instances.FreePort.Pick();
        builder.Services.AddSingleton<FleetMetrics>();
        builder.Services.AddSingleton<TierReadCache>();
        builder.Services.AddSingleton<ControlPlane.Grains.Pools.PoolMetrics>();
        // Grain state in Orleans' encoding ([Id]/[Alias]); rows of the previous release (JSON with type names) still
        // read, and are rewritten once before Orleans starts (the hosted service is registered first on purpose).
        builder.Services.AddSingleton(sp => Catalog.LegacyGrainStateReader.FromOrleansDefaults(
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Orleans.Serialization.OrleansJsonSerializerOptions>>().Value));
        builder.Services.AddSingleton<Catalog.GrainStateSerializer>();
        builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<Catalog.GrainStateMigration>(sp, catalog));
        builder.UseOrleans(silo =>
        {
            silo.Configure<Orleans.Configuration.ClusterOptions>(o =>
            {
                o.ClusterId = options.Cluster.ClusterId;
                o.ServiceId = options.Cluster.ServiceId;
            });
            // A silo of a declared host is reached at the host's address (a simulated host: its own 127.0.0.x).
            var siloAddress = options.Host.Address.Length > 0 ? IPAddress.Parse(options.Host.Address) : IPAddress.Loopback;
            silo.ConfigureEndpoints(siloAddress, siloPort, ControlPlane.Postgres.Instances.FreePort.Pick(), listenOnAnyHostAddress: false);
            silo.AddControlPlaneHosts(options.Host);
            silo.Configure<Orleans.Configuration.ClusterMembershipOptions>(o =>
            {
                // A killed silo leaves its tiers unmanaged until it is declared dead: find out in seconds, not a minute.
                o.ProbeTimeout = options.Cluster.ProbeTimeout;
                o.NumMissedProbesLimit = 3;
                o.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);
            });
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = catalog;
            });
            silo.AddAdoNetGrainStorage(FleetKeys.Storage, o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = catalog;
            });
            silo.Services.AddOptions<Orleans.Configuration.AdoNetGrainStorageOptions>(FleetKeys.Storage)
                .Configure<Catalog.GrainStateSerializer>((o, serializer) => o.GrainStorageSerializer = serializer);
            // Stream pub-sub state (who subscribes to which tier's changes) lives in memory, not in the catalog, so a
            // watch opened while the catalog is down subscribes, and a tier grain can still publish (a producer
            // registers with the pub-sub grain on its first event). Sound for memory streams: their events live only
            // in the silos' memory anyway, and every subscriber is a gRPC watch held by a live silo. The one loss is a
            // silo that dies holding a memory-storage grain: watches whose pub-sub state it held get no more deltas,
            // which the watch loop repairs by re-reading snapshots on a timer (FleetGrpcService.WatchAsync).
            silo.AddMemoryGrainStorage("PubSubStore");
            silo.UseAdoNetReminderService(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = catalog;
            });
            silo.AddMemoryStreams(FleetKeys.StreamProvider);
            silo.AddActivityPropagation();
        });
        // One subscription per watched tier for all of this silo's watches. A hosted service registered after Orleans:
        // it stops first, ending its subscriptions while the silo still answers.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ITierChangeSource, OrleansTierChangeSource>();
        builder.Services.AddSingleton<TierChangeHub>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TierChangeHub>());
    }

    /// <summary>Metrics on /metrics (Prometheus) and, when OTEL_EXPORTER_OTLP_ENDPOINT is set, traces and metrics by OTLP.</summary>
    public static void AddControlPlaneTelemetry(this WebApplicationBuilder builder)
    {
        // A meter provider listens to every meter of a subscribed name in the process. With several silos in one process
        // (the tests, a single-host cluster) each would export the others' series, and when another silo disposed its
        // meters the shared streams ended, so this silo's gauges vanished from /metrics. Meters made by another host's
        // IMeterFactory are dropped here; meters made by no factory (library statics) stay.
        builder.Services.ConfigureOpenTelemetryMeterProvider((services, m) =>
        {
            var own = services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
            m.AddView(i => i.Meter.Scope is System.Diagnostics.Metrics.IMeterFactory other && !ReferenceEquals(other, own) ? MetricStreamConfiguration.Drop : null);
        });
        var otlp = !string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("controlplane-silo"))
            .WithMetrics(m =>
            {
                m.AddMeter(FleetMetrics.MeterName, ControlPlane.Grains.Pools.PoolMetrics.MeterName, ControlPlane.Grains.Backups.BackupMetrics.MeterName, Catalog.CatalogHealth.MeterName, "Microsoft.Orleans")
                    .AddAspNetCoreInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddNpgsqlInstrumentation()
                    .AddPrometheusExporter();
                if (otlp) m.AddOtlpExporter();
            })
            .WithTracing(t =>
            {
                t.AddSource("Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                    .AddAspNetCoreInstrumentation()
                    .AddNpgsql();
                if (otlp) t.AddOtlpExporter();
            });
    }

    public static void AddControlPlaneGateway(this WebApplicationBuilder builder)
    {
        builder.Services.AddGrpc(o =>
        {
            // Security first: it must see every call, and the final status of mutating ones, to audit them.
            o.Interceptors.Add<SecurityInterceptor>();
            o.Interceptors.Add<ErrorMappingInterceptor>();
            o.MaxReceiveMessageSize = 1024 * 1024;
            o.EnableDetailedErrors = false;
        });
        builder.Services.AddGrpcReflection();
        builder.Services.AddControlPlaneHealth();
    }

    public static void MapControlPlaneEndpoints(this WebApplication app, EndpointPorts ports)
    {
        // /metrics answers only on the metrics port, so the gRPC port never serves HTTP/1.1 pages.
        app.UseOpenTelemetryPrometheusScrapingEndpoint(
            ctx => ctx.Request.Path == "/metrics" && ctx.Connection.LocalPort == ports.Metrics);
        app.MapGrpcService<FleetGrpcService>();
        app.MapGrpcService<SecurityGrpcService>();
        app.MapGrpcService<Failover.FailoverGrpcService>();
        app.MapGrpcService<Pools.PoolGrpcService>();
        app.MapGrpcService<Tenants.TenantGrpcService>();
        app.MapGrpcService<Changes.ChangeGrpcService>();
        app.MapGrpcService<Backups.BackupGrpcService>();
        app.MapGrpcService<Catalog.CatalogGrpcService>();
        Monitoring.MonitoringHosting.MapControlPlaneMonitoring(app);
        app.MapGrpcService<Hardening.HardeningGrpcService>();
        Sla.SlaHosting.MapControlPlaneSla(app);
        Consistency.ConsistencyHosting.MapControlPlaneConsistency(app);
        Capacity.CapacityHosting.MapControlPlaneCapacity(app);
        Upgrades.UpgradeHosting.MapControlPlaneUpgrades(app);
        Coverage.CoverageHosting.MapControlPlaneCoverage(app);
        Parity.ParityHosting.MapControlPlaneParity(app);
        app.MapGrpcHealthChecksService();
        app.MapGrpcReflectionService();
    }
}
