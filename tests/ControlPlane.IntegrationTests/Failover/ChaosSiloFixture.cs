using System.Net;
using System.Net.Sockets;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// The real silo, in process, with one failover-enabled tier (<c>oltp</c>: a primary and two standbys, so a
/// failover also has to repoint a standby) in its own temporary data directory. The chaos scenarios share it: each
/// starts from a converged tier and leaves one behind.
/// </summary>
public sealed class ChaosSiloFixture : IAsyncLifetime
{
    public const string TierName = "oltp";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cp-chaos-" + Guid.NewGuid().ToString("N")[..8]);
    private GrpcChannel? _channel;

    public RunningSilo Silo { get; private set; } = null!;
    public string DataDirectory => Path.Combine(_root, "data");
    public StringWriter Output { get; } = new();
    public LogSink Logs { get; } = new();
    public TierControl Tier { get; private set; } = null!;

    /// <summary>The gateway, as a service would be configured with it.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>Calls through the gateway with the admin token.</summary>
    public CallInvoker Invoker { get; private set; } = null!;

    /// <summary>The admin token the silo wrote on first start.</summary>
    public string Token { get; private set; } = "";

    public LocalFleet Fleet => Silo.Instances.LocalFleet ?? throw new InvalidOperationException("the chaos silo runs no local fleet");

    /// <summary>The superuser password of the tier's instances, as the local fleet generated it.</summary>
    public string PasswordFile => Fleet.Options.SuperuserPasswordFile(TierName);

    public LocalInstanceDriver Driver(string replica) => Fleet.Driver(TierName, replica);

    /// <summary>A driver of the embedded catalog instance, found by its data directory (the silo keeps its own private).</summary>
    public async Task<LocalInstanceDriver> CatalogDriverAsync()
    {
        var driver = new LocalInstanceDriver(new LocalInstanceOptions("catalog", "catalog", Path.Combine(DataDirectory, "catalog", "data"), 0,
            Path.Combine(DataDirectory, "secrets", "catalog.superuser"), ReplicatorPasswordFile: null), NullLogger.Instance);
        await driver.AdoptPortAsync(remembered: null, CancellationToken.None);
        return driver;
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        var grpcPort = TestPorts.Reserve();
        var metricsPort = TestPorts.Reserve();
        Silo = await ControlPlaneHost.StartAsync(
            ["--data-dir", DataDirectory, "--grpc-port", grpcPort.ToString(), "--metrics-port", metricsPort.ToString()],
            c => c.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ControlPlane:LocalTiers:0"] = TierName,
                ["ControlPlane:StandbysPerTier"] = "2",
            }),
            Output, CancellationToken.None, configureHost: Logs.AttachTo);
        Endpoint = new Uri($"http://127.0.0.1:{grpcPort}");
        _channel = GrpcChannel.ForAddress(Endpoint);
        var token = File.ReadAllText(Path.Combine(DataDirectory, "admin.token")).Trim();
        Token = token;
        var invoker = _channel.Intercept(m =>
        {
            m.Add("authorization", "Bearer " + token);
            return m;
        });
        Invoker = invoker;
        Tier = new TierControl(new FleetService.FleetServiceClient(invoker), new FailoverService.FailoverServiceClient(invoker), TierName, PasswordFile);
        var converged = await Tier.WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(3));
        await Tier.CreateWritesTableAsync();
        _ = converged;
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (Silo is not null)
        {
            try
            {
                await Silo.DisposeAsync();
            }
            finally
            {
                // A scenario that failed half way may leave an instance frozen: thaw, then stop whatever still runs.
                await StopLeftoversAsync();
                KeepSiloLog();
            }
        }
        await SmallDisk.UnmountAllUnderAsync(_root);
        TestDirectory.DeleteQuietly(_root);
    }

    /// <summary>The silo's whole log, kept when CONTROLPLANE_TEST_LOGS names a directory (to study a failed run).</summary>
    private void KeepSiloLog()
    {
        if (Environment.GetEnvironmentVariable("CONTROLPLANE_TEST_LOGS") is not { Length: > 0 } directory) return;
        Directory.CreateDirectory(directory);
        File.WriteAllLines(Path.Combine(directory, $"{Path.GetFileName(_root)}.log"), [Output.ToString(), .. Logs.Lines]);
    }

    private async Task StopLeftoversAsync()
    {
        var options = new LocalFleetOptions(DataDirectory) { Tiers = [TierName], StandbysPerTier = 2 };
        foreach (var name in options.ReplicaNames(TierName))
        {
            var driver = new LocalInstanceDriver(new LocalInstanceOptions(TierName, name, options.ReplicaDataDirectory(TierName, name), 0,
                options.SuperuserPasswordFile(TierName), null), NullLogger.Instance);
            try
            {
                await driver.FenceAsync(CancellationToken.None);
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException)
            {
            }
        }
        try
        {
            var catalog = await CatalogDriverAsync();
            await catalog.FenceAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is TimeoutException or InvalidOperationException or IOException)
        {
        }
    }
}

/// <summary>
/// Chaos scenarios kill and freeze instances and measure nothing, but a false failover is exactly what a starved
/// CPU produces: they run alone, after the parallel collections.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChaosCollection : ICollectionFixture<ChaosSiloFixture>
{
    public const string Name = "failover-chaos";
}
