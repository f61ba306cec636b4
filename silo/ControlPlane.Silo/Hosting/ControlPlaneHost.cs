using System.Runtime.InteropServices;
using ControlPlane.Grains.Fleet;
using ControlPlane.Silo.Backups;
using ControlPlane.Silo.Bootstrap;
using ControlPlane.Silo.Catalog;
using ControlPlane.Silo.Security;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace ControlPlane.Silo.Hosting;

/// <summary>
/// Builds and runs the silo: provision the catalog and the local fleet first (Orleans needs its catalog before it
/// can start), then the host with Orleans, the gRPC gateway and telemetry, then register the fleet with its grains.
/// </summary>
public static class ControlPlaneHost
{
    /// <summary>The process entry point: runs until Ctrl-C or SIGTERM, then stops everything it started.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == Catalog.CatalogRestoreCommand.Verb)
        {
            return await Catalog.CatalogRestoreCommand.RunAsync(args[1..], Console.Out, Console.Error, CancellationToken.None);
        }
        if (args.Length > 0 && args[0] == Catalog.CatalogPromoteCommand.Verb)
        {
            return await Catalog.CatalogPromoteCommand.RunAsync(args[1..], Console.Out, Console.Error, CancellationToken.None);
        }
        if (args.Contains("--help") || args.Contains("-h"))
        {
            Console.Out.WriteLine(SiloCommandLine.Usage);
            return 0;
        }
        var unknown = SiloCommandLine.UnknownFlags(args);
        if (unknown.Count > 0)
        {
            await Console.Error.WriteLineAsync($"error: unknown option {string.Join(", ", unknown)}; see --help.");
            return 2;
        }
        RunningSilo silo;
        // Until the host is up it cannot see SIGTERM or Ctrl-C: cancel the start-up instead, which stops whatever
        // instances were already started rather than leaving them running.
        using (var startup = new CancellationTokenSource())
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; startup.Cancel(); }))
        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; startup.Cancel(); }))
        {
            try
            {
                silo = await StartAsync(args, configure: null, Console.Out, startup.Token);
            }
            catch (ControlPlaneConfigurationException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return 2;
            }
            catch (OperationCanceledException) when (startup.IsCancellationRequested)
            {
                await Console.Error.WriteLineAsync("Start-up cancelled; the instances it had started are stopped.");
                return 130;
            }
        }
        await using (silo)
        {
            await silo.App.WaitForShutdownAsync();
            Console.Out.WriteLine("Stopping: silo first, then the local instances.");
        }
        return 0;
    }

    /// <summary>
    /// Provisions, builds and starts a silo. Tests call this with their own data directory and ports, and may adjust the
    /// host (e.g. add a log sink) through <paramref name="configureHost"/> just before it is built.
    /// </summary>
    public static async Task<RunningSilo> StartAsync(
        string[] args, Action<IConfigurationBuilder>? configure, TextWriter output, CancellationToken cancellationToken,
        Action<WebApplicationBuilder>? configureHost = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Configuration.AddCommandLine(SiloCommandLine.Normalize(args), SiloCommandLine.Switches.ToDictionary(kv => kv.Key, kv => kv.Value));
        configure?.Invoke(builder.Configuration);

        var options = builder.Configuration.GetSection(ControlPlaneOptions.Section).Get<ControlPlaneOptions>() ?? new ControlPlaneOptions();
        var fleetOptions = builder.Configuration.GetSection(FleetOptions.Section).Get<FleetOptions>() ?? new FleetOptions();
        var errors = options.Validate().Concat(fleetOptions.Validate()).ToList();
        if (errors.Count > 0) throw new ControlPlaneConfigurationException(string.Join(Environment.NewLine, errors));
        options.DataDirectory = Path.GetFullPath(options.DataDirectory);
        ControlPlane.Silo.Backups.BackupHosting.ReadOptions(builder.Configuration, options.DataDirectory);

        using var loggerFactory = LoggerFactory.Create(l => l.AddSimpleConsole(c => c.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        var instances = await EmbeddedInstances.StartAsync(options, loggerFactory, cancellationToken);
        try
        {
            builder.Services.AddSingleton(instances);
            builder.Services.AddSingleton(options.Host);
            builder.Services.AddSingleton(new ControlPlane.Grains.Hosts.ReplicaHosts(instances.Tiers.SelectMany(t => t.Replicas)));
            // Bounds the host's stop (Orleans leaving the cluster writes to the catalog, which may be down); the
            // instances are stopped after it whatever happened.
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
            // Decisions taken while the catalog is unreachable, on this silo's own disk (see docs/catalog.md).
            builder.Services.AddSingleton(new ControlPlane.Grains.Failover.DecisionJournal(Path.Combine(options.DataDirectory, "journal")));
            builder.Services.AddSingleton<ControlPlane.Grains.Failover.CatalogWriteStatus>();
            builder.Services.Configure<ControlPlaneOptions>(builder.Configuration.GetSection(ControlPlaneOptions.Section));
            builder.Services.PostConfigure<ControlPlaneOptions>(o => o.DataDirectory = options.DataDirectory);
            builder.Services.Configure<FleetOptions>(builder.Configuration.GetSection(FleetOptions.Section));
            builder.Services.Configure<ControlPlane.Grains.Changes.ChangeOptions>(builder.Configuration.GetSection(ControlPlane.Grains.Changes.ChangeOptions.Section));
            builder.Logging.AddSimpleConsole(c => c.SingleLine = true);
            builder.Logging.AddFilter("Orleans", LogLevel.Warning);
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Warning);
            builder.Logging.AddFilter("Polly", LogLevel.Warning);

            var ports = builder.AddControlPlaneEndpoints(options);
            Board.BoardHosting.AddControlPlaneBoard(builder, options);
            builder.AddControlPlaneCatalogSynchrony();
            builder.AddControlPlaneOrleans(options, instances.CatalogConnectionString);
            builder.AddControlPlaneCatalog(instances);
            builder.AddControlPlaneTelemetry();
            builder.AddControlPlaneGateway();
            builder.AddControlPlaneSecurity(instances.CatalogConnectionString);
            builder.AddControlPlaneBackups(options.DataDirectory);
            Monitoring.MonitoringHosting.AddControlPlaneMonitoring(builder);
            ControlPlane.Silo.Hardening.HardeningHosting.AddControlPlaneHardening(builder);
            ControlPlane.Silo.Sla.SlaHosting.AddControlPlaneSla(builder);
            ControlPlane.Silo.Consistency.ConsistencyHosting.AddControlPlaneConsistency(builder);
            ControlPlane.Silo.Capacity.CapacityHosting.AddControlPlaneCapacity(builder);
            ControlPlane.Silo.Upgrades.UpgradeHosting.AddControlPlaneUpgrades(builder, options.DataDirectory);
            ControlPlane.Silo.Coverage.CoverageHosting.AddControlPlaneCoverage(builder);
            ControlPlane.Silo.Parity.ParityHosting.AddControlPlaneParity(builder);
            ControlPlane.Silo.Tenants.TenantHosting.AddControlPlaneTenants(builder, options);
            builder.Services.AddHostedService<ControlPlane.Silo.Hosts.HostInstances>();
            builder.Services.AddHostedService<ControlPlane.Silo.Hosts.SelfFencing>();
            builder.Services.AddHostedService<ControlPlane.Silo.Hosts.VantageProbes>();
            builder.Services.AddHostedService<FleetRegistration>();
            builder.Services.AddHostedService<TierKeeper>();

            configureHost?.Invoke(builder);
            var app = builder.Build();
            app.MapControlPlaneEndpoints(ports);
            Board.BoardHosting.MapControlPlaneBoard(app);
            await app.StartAsync(cancellationToken);

            var (grpc, metrics) = ResolveEndpoints(app, options, ports);
            var silo = new RunningSilo(app, instances, options, grpc, metrics);
            PrintBanner(output, silo);
            return silo;
        }
        catch
        {
            await instances.StopAsync(CancellationToken.None);
            throw;
        }
    }

    private static (Uri Grpc, Uri Metrics) ResolveEndpoints(WebApplication app, ControlPlaneOptions options, EndpointPorts ports)
    {
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var uris = bound.Select(a => new Uri(a)).ToList();
        // Port 0 asks Kestrel for any free port: learn which ones it took, in the order they were declared.
        var grpcPort = options.GrpcPort != 0 ? options.GrpcPort : uris.ElementAtOrDefault(0)?.Port ?? 0;
        var metricsPort = options.MetricsPort != 0 ? options.MetricsPort : uris.ElementAtOrDefault(1)?.Port ?? 0;
        ports.Grpc = grpcPort;
        ports.Metrics = metricsPort;
        var scheme = options.Tls.Enabled ? "https" : "http";
        return (new Uri($"{scheme}://{options.ListenAddress}:{grpcPort}", UriKind.Absolute), new Uri($"http://{options.ListenAddress}:{metricsPort}/metrics"));
    }

    private static void PrintBanner(TextWriter output, RunningSilo silo)
    {
        var o = silo.Options;
        var tiers = silo.Instances.Tiers;
        // cpctl finds ./.controlplane/admin.token by itself; from any other data directory it must be told.
        var defaultTokenFile = Path.GetFullPath(Path.Combine(".controlplane", "admin.token"));
        var tokenFile = Path.Combine(o.DataDirectory, "admin.token");
        var tokenFlag = o.Security.InsecureNoAuth || tokenFile == defaultTokenFile || !File.Exists(tokenFile) ? "" : $" --token-file {tokenFile}";
        output.WriteLine($"""

            ControlPlane is up.
              gRPC gateway : {silo.GrpcEndpoint.GetLeftPart(UriPartial.Authority)}
              metrics      : {silo.MetricsEndpoint}
            {Board.BoardHosting.Banner(silo.Services)}
              data         : {o.DataDirectory}
              catalog      : {silo.Instances.CatalogDescription}
              fleet        : {o.Fleet} environment '{o.Environment}', {tiers.Count} tier(s){(tiers.Count > 0 ? ": " + string.Join(", ", tiers.Select(t => t.Name)) : "")}
            {SecurityHosting.Banner(o)}
            Try:
              dotnet run --project client/ControlPlane.Cli -- status --endpoint {silo.GrpcEndpoint.GetLeftPart(UriPartial.Authority)}{tokenFlag}
            Ctrl-C stops the silo and the local instances.

            """);
    }
}

/// <summary>Settings that cannot work; the message names each key, value and what was expected.</summary>
public sealed class ControlPlaneConfigurationException(string message) : Exception(message);
