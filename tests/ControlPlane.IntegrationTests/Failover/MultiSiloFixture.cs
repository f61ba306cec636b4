using ControlPlane.IntegrationTests.Support;
using System.Net;
using System.Net.Sockets;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// Three silos in one cluster, each a child process on known loopback ports: the first provisions the catalog and
/// one tier (<c>oltp</c>, a primary and two standbys); the other two join its catalog with <c>--join --fleet none</c>.
/// Any of them may host the tier grain, and any may be SIGKILLed.
/// </summary>
public sealed class MultiSiloFixture : IAsyncLifetime
{
    public const string TierName = "oltp";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cp-multi-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<SiloChild> _silos = [];
    private readonly List<GrpcChannel> _channels = [];
    private readonly Dictionary<int, TierControl> _controls = [];

    public string FirstDataDirectory => Path.Combine(_root, "s1");
    public IReadOnlyList<SiloChild> Silos => _silos;
    public LocalFleetOptions FleetOptions => new(FirstDataDirectory) { Tiers = [TierName], StandbysPerTier = 2 };

    /// <summary>The tier as seen through the gateway of <paramref name="silo"/>.</summary>
    public TierControl Through(SiloChild silo) => _controls[silo.SiloPort];

    public LocalInstanceDriver Driver(string replica) =>
        new(new LocalInstanceOptions(TierName, replica, FleetOptions.ReplicaDataDirectory(TierName, replica), 0,
            FleetOptions.SuperuserPasswordFile(TierName), null), NullLogger.Instance);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        var first = Launch(FirstDataDirectory, join: null);
        var token = await WaitForFileAsync(Path.Combine(FirstDataDirectory, "admin.token"), TimeSpan.FromMinutes(3));
        var control = Connect(first, token);
        await control.WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(3));
        await control.CreateWritesTableAsync();
        foreach (var name in new[] { "s2", "s3" })
        {
            var silo = Launch(Path.Combine(_root, name), join: FirstDataDirectory);
            // Answering GetTier means the silo joined the cluster and reaches the tier grain wherever it lives.
            await Connect(silo, token).WaitAsync(_ => true, TimeSpan.FromMinutes(2));
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var c in _channels) c.Dispose();
        await Task.WhenAll(_silos.Select(s => s.DisposeAsync().AsTask()));
        // A killed silo leaves its instances running: stop every instance of the fleet, then the catalog.
        await LocalFleet.StopAsync(FleetOptions, NullLogger.Instance, CancellationToken.None);
        var catalog = new LocalInstanceDriver(new LocalInstanceOptions("catalog", "catalog", Path.Combine(FirstDataDirectory, "catalog", "data"), 0,
            Path.Combine(FirstDataDirectory, "secrets", "catalog.superuser"), null), NullLogger.Instance);
        await catalog.StopAsync(StopMode.Immediate, CancellationToken.None);
        TestDirectory.DeleteQuietly(_root);
    }

    private SiloChild Launch(string dataDirectory, string? join)
    {
        Directory.CreateDirectory(dataDirectory);
        var (grpc, metrics, siloPort) = (TestPorts.Reserve(), TestPorts.Reserve(), TestPorts.Reserve());
        var args = new List<string>
        {
            "--data-dir", dataDirectory, "--grpc-port", grpc.ToString(), "--metrics-port", metrics.ToString(), "--silo-port", siloPort.ToString(),
        };
        if (join is not null) args.AddRange(["--join", join, "--fleet", "none"]);
        var environment = new Dictionary<string, string>
        {
            ["ControlPlane__LocalTiers__0"] = TierName,
            ["ControlPlane__StandbysPerTier"] = "2",
        };
        var silo = SiloChild.Start(args, environment, dataDirectory + ".log", grpc, siloPort);
        _silos.Add(silo);
        return silo;
    }

    private TierControl Connect(SiloChild silo, string token)
    {
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{silo.GrpcPort}");
        _channels.Add(channel);
        var invoker = channel.Intercept(m =>
        {
            m.Add("authorization", "Bearer " + token);
            return m;
        });
        var control = new TierControl(new FleetService.FleetServiceClient(invoker), new FailoverService.FailoverServiceClient(invoker),
            TierName, FleetOptions.SuperuserPasswordFile(TierName));
        _controls[silo.SiloPort] = control;
        return control;
    }

    private static async Task<string> WaitForFileAsync(string path, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(path) || new FileInfo(path).Length == 0)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{path} did not appear within {timeout}");
            await Task.Delay(250);
        }
        return (await File.ReadAllTextAsync(path)).Trim();
    }
}

/// <summary>Runs alone, after the parallel collections, like the other chaos collection.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MultiSiloCollection : ICollectionFixture<MultiSiloFixture>
{
    public const string Name = "failover-multi-silo";
}
