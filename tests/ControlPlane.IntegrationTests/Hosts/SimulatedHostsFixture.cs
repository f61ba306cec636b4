using ControlPlane.IntegrationTests.Failover;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ControlPlane.IntegrationTests.Hosts;

/// <summary>
/// Three simulated database hosts on one machine (docs/hosts.md): host-a on 127.0.0.2, host-b on 127.0.0.3, host-c
/// on 127.0.0.4, each with one PostgreSQL instance listening on its address and a silo (a child process, started
/// with <c>--host</c>/<c>--host-address</c>) bound to it. One tier: <c>oltp-a</c> primary, <c>oltp-b</c> and
/// <c>oltp-c</c> streaming from it, all three created by their hosts' silos. host-c's silo runs the embedded catalog (on 127.0.0.1) and the others join it,
/// so killing host-a or host-b leaves the catalog up. Every silo reads the same tier configuration. A derived fixture
/// may put the catalog on another host and give it a standby (<see cref="CatalogOnPrimaryHostFixture"/>).
/// </summary>
public class SimulatedHostsFixture : IAsyncLifetime
{
    private readonly int _catalogHost;
    private readonly int? _catalogStandbyHost;

    /// <summary>The catalog on host-c, no standby. (xUnit wants a collection fixture's only public constructor.)</summary>
    public SimulatedHostsFixture()
        : this(2, null)
    {
    }

    protected SimulatedHostsFixture(int catalogHost, int? catalogStandbyHost)
    {
        _catalogHost = catalogHost;
        _catalogStandbyHost = catalogStandbyHost;
    }

    public const string TierName = "oltp";
    public static readonly IReadOnlyList<SimulatedHost> Hosts =
    [
        new("host-a", "127.0.0.2", "oltp-a"),
        new("host-b", "127.0.0.3", "oltp-b"),
        new("host-c", "127.0.0.4", "oltp-c"),
    ];

    private readonly string _root = Path.Combine(Path.GetTempPath(), "cp-hosts-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly Dictionary<string, int> _pgPorts = [];
    private readonly Dictionary<string, SiloChild> _silos = [];
    private readonly List<GrpcChannel> _channels = [];
    private string _token = "";

    /// <summary>Partitions between the hosts (each host's silo and instances in a cgroup of their own); null where
    /// they cannot be made (<see cref="NetworkPartition.Unsupported"/>).</summary>
    public NetworkPartition? Partitions { get; } = NetworkPartition.Unsupported() is null
        ? new NetworkPartition(Guid.NewGuid().ToString("N")[..8], Hosts.Select(h => h.Name).ToList())
        : null;

    /// <summary>The port a host's instance listens on.</summary>
    public int PostgresPort(SimulatedHost host) => _pgPorts[host.Replica];

    public string SuperuserPasswordFile => Path.Combine(_root, "secrets", "oltp.superuser");
    public string ReplicatorPasswordFile => Path.Combine(_root, "secrets", "oltp.replicator");
    /// <summary>The host whose silo runs the embedded catalog (the others join it).</summary>
    public SimulatedHost CatalogHost => Hosts[_catalogHost];

    /// <summary>The host whose silo runs the catalog's standby (<c>--catalog-standby</c>), if any.</summary>
    public SimulatedHost? CatalogStandbyHost => _catalogStandbyHost is { } i ? Hosts[i] : null;

    /// <summary>Data directory of the silo that provisioned the catalog (catalog.json, the secrets).</summary>
    public string CatalogHostDirectory => SiloDirectory(CatalogHost);

    /// <summary>The first catalog instance, as its silo runs it (port from the manifest).</summary>
    public LocalInstanceDriver CatalogDriver() =>
        new(new LocalInstanceOptions("catalog", "catalog", Path.Combine(CatalogHostDirectory, "catalog", "data"), CatalogPort(),
            Path.Combine(CatalogHostDirectory, "secrets", "catalog.superuser"), null), NullLogger.Instance);

    /// <summary>The catalog standby's instance, as its silo runs it; null without one.</summary>
    public LocalInstanceDriver? CatalogStandbyDriver() => CatalogStandbyHost is { } host
        ? new(new LocalInstanceOptions("catalog", "catalog-standby", Path.Combine(SiloDirectory(host), "catalog-standby", "data"), 0,
            Path.Combine(CatalogHostDirectory, "secrets", "catalog.superuser"), null), NullLogger.Instance)
        : null;

    private int CatalogPort()
    {
        var manifest = Path.Combine(CatalogHostDirectory, "catalog.json");
        return File.Exists(manifest)
            ? System.Text.Json.JsonDocument.Parse(File.ReadAllText(manifest)).RootElement.GetProperty("Port").GetInt32()
            : 0;
    }

    public SiloChild Silo(SimulatedHost host) => _silos[host.Name];

    /// <summary>The host-local driver of a host's instance, as that host's silo builds it.</summary>
    public LocalInstanceDriver Driver(SimulatedHost host) =>
        new(new LocalInstanceOptions(TierName, host.Replica, Path.Combine(_root, host.Name, host.Replica, "data"), _pgPorts[host.Replica],
            SuperuserPasswordFile, ReplicatorPasswordFile) { ListenAddress = host.Address }, NullLogger.Instance);

    /// <summary>The tier through the gateway of <paramref name="host"/>'s silo.</summary>
    public TierControl Through(SimulatedHost host)
    {
        var channel = GrpcChannel.ForAddress($"http://{host.Address}:{Silo(host).GrpcPort}");
        _channels.Add(channel);
        var invoker = channel.Intercept(m =>
        {
            m.Add("authorization", "Bearer " + _token);
            return m;
        });
        return new TierControl(new FleetService.FleetServiceClient(invoker), new FailoverService.FailoverServiceClient(invoker), TierName, SuperuserPasswordFile);
    }

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Path.Combine(_root, "secrets"));
        await SecretFile.EnsureAsync(SuperuserPasswordFile, CancellationToken.None);
        await SecretFile.EnsureAsync(ReplicatorPasswordFile, CancellationToken.None);
        foreach (var host in Hosts) _pgPorts[host.Replica] = TestPorts.Reserve();
        // No instance exists yet: host-a's silo creates the primary, and the tier has host-b's and host-c's silos
        // build their standbys from it (a rejoin of an empty data directory), as on real machines (docs/hosts.md).
        // The catalog's host first (the others join its catalog), then its standby's (the silos started after it name
        // the standby in their catalog connection strings), then the rest.
        StartSilo(CatalogHost);
        _token = await WaitForFileAsync(Path.Combine(CatalogHostDirectory, "admin.token"), TimeSpan.FromMinutes(3), Silo(CatalogHost));
        if (CatalogStandbyHost is { } standbyHost)
        {
            StartSilo(standbyHost);
            await WaitForStandbyAsync(TimeSpan.FromMinutes(3), Silo(standbyHost));
        }
        foreach (var host in Hosts.Where(h => h != CatalogHost && h != CatalogStandbyHost)) StartSilo(host);
        var control = Through(CatalogHost);
        await control.WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(5));
        // Asked again while it times out: on a loaded machine a first session to a new primary can take longer than its deadline.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (true)
        {
            try
            {
                await control.CreateWritesTableAsync();
                break;
            }
            catch (Npgsql.NpgsqlException ex) when (ex.InnerException is TimeoutException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(1000);
            }
        }
    }

    /// <summary>Starts (or restarts, after a kill) the silo of <paramref name="host"/>; its data directory is kept.</summary>
    public SiloChild StartSilo(SimulatedHost host)
    {
        var directory = SiloDirectory(host);
        Directory.CreateDirectory(directory);
        var (grpc, metrics, siloPort) = (TestPorts.Reserve(), TestPorts.Reserve(), TestPorts.Reserve());
        var args = new List<string>
        {
            "--data-dir", directory, "--grpc-port", grpc.ToString(), "--metrics-port", metrics.ToString(), "--silo-port", siloPort.ToString(),
            "--listen", host.Address, "--host", host.Name, "--host-address", host.Address, "--fleet", "config",
        };
        if (host != CatalogHost) args.AddRange(["--join", CatalogHostDirectory]);
        if (host == CatalogStandbyHost) args.Add("--catalog-standby");
        var silo = SiloChild.Start(args, TierConfiguration(), directory + $"-{DateTime.UtcNow:HHmmss}.log", grpc, siloPort, Partitions?.ProcsFile(host.Name));
        _silos[host.Name] = silo;
        return silo;
    }

    /// <summary>The same tier description every host's silo reads: each replica names its host and data directory there.</summary>
    private Dictionary<string, string> TierConfiguration()
    {
        var environment = new Dictionary<string, string>
        {
            ["ControlPlane__Tiers__0__Name"] = TierName,
            ["ControlPlane__Tiers__0__Primary"] = Hosts[0].Replica,
        };
        for (var i = 0; i < Hosts.Count; i++)
        {
            var host = Hosts[i];
            var key = $"ControlPlane__Tiers__0__Replicas__{i}__";
            environment[key + "Name"] = host.Replica;
            environment[key + "Host"] = host.Address;
            environment[key + "Port"] = _pgPorts[host.Replica].ToString();
            environment[key + "PasswordFile"] = SuperuserPasswordFile;
            environment[key + "ReplicatorPasswordFile"] = ReplicatorPasswordFile;
            environment[key + "HostName"] = host.Name;
            environment[key + "DataDirectory"] = Path.Combine(_root, host.Name, host.Replica, "data");
        }
        return environment;
    }

    public async Task DisposeAsync()
    {
        foreach (var c in _channels) c.Dispose();
        await Task.WhenAll(_silos.Values.Select(s => s.DisposeAsync().AsTask()));
        foreach (var host in Hosts) await Driver(host).FenceAsync(CancellationToken.None);
        foreach (var catalog in new[] { CatalogDriver(), CatalogStandbyDriver() }.OfType<LocalInstanceDriver>())
        {
            try
            {
                await catalog.StopAsync(StopMode.Immediate, CancellationToken.None);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or ProcessFailedException)
            {
                // Already gone (a killed host), or fenced: nothing left to stop.
            }
        }
        Partitions?.Dispose();
        KeepLogs();
        TestDirectory.DeleteQuietly(_root);
    }

    private string SiloDirectory(SimulatedHost host) => Path.Combine(_root, host.Name, "silo");

    /// <summary>Every silo's log, kept when CONTROLPLANE_TEST_LOGS names a directory (to study a failed or slow run).</summary>
    private void KeepLogs()
    {
        if (Environment.GetEnvironmentVariable("CONTROLPLANE_TEST_LOGS") is not { Length: > 0 } directory) return;
        var into = Path.Combine(directory, GetType().Name + "-" + Path.GetFileName(_root));
        Directory.CreateDirectory(into);
        foreach (var host in Hosts)
        {
            var hostDirectory = Path.Combine(_root, host.Name);
            if (!Directory.Exists(hostDirectory)) continue;
            foreach (var log in Directory.EnumerateFiles(hostDirectory, "silo-*.log")) File.Copy(log, Path.Combine(into, host.Name + "-" + Path.GetFileName(log)), overwrite: true);
        }
    }

    /// <summary>
    /// Waits until the tier meets <paramref name="condition"/> while a returned host's <paramref name="silo"/> runs
    /// (failing at once if it exits); on a timeout, says where every replica stands and what the silo last logged.
    /// </summary>
    public static async Task<Tier> WaitHealedAsync(TierControl control, SiloChild silo, Func<Tier, bool> condition, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(silo);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            silo.ThrowIfExited();
            var remaining = deadline - DateTime.UtcNow;
            var tier = await control.WaitAsync(condition, remaining < TimeSpan.FromSeconds(10) ? remaining : TimeSpan.FromSeconds(10), throwOnTimeout: false);
            if (condition(tier)) return tier;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the tier did not heal within {timeout}: primary {tier.Primary}, " +
                string.Join(", ", tier.Replicas.Select(r => $"{r.Name} {r.Role} healthy={r.Healthy} {r.Problem}")) + $"\nreturned silo:\n{silo.LogTail()}");
        }
    }

    /// <summary>The catalog standby is recorded in the manifest (its silo does so once it exists, before it streams).</summary>
    private async Task WaitForStandbyAsync(TimeSpan timeout, SiloChild silo)
    {
        var manifest = Path.Combine(CatalogHostDirectory, "catalog.json");
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(manifest) || !File.ReadAllText(manifest).Contains("catalog-standby", StringComparison.Ordinal))
        {
            silo.ThrowIfExited();
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the catalog standby did not stream within {timeout}");
            await Task.Delay(250);
        }
    }

    private static async Task<string> WaitForFileAsync(string path, TimeSpan timeout, SiloChild silo)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(path) || new FileInfo(path).Length == 0)
        {
            silo.ThrowIfExited();
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{path} did not appear within {timeout}");
            await Task.Delay(250);
        }
        return (await File.ReadAllTextAsync(path)).Trim();
    }
}

/// <summary>A simulated database host: its name, its loopback address and the replica it runs.</summary>
public sealed record SimulatedHost(string Name, string Address, string Replica);

/// <summary>
/// The same three hosts with the catalog on host-a, the tier primary's host, and its synchronous standby on host-b:
/// losing host-a loses the catalog primary and the tier primary in one event.
/// </summary>
public sealed class CatalogOnPrimaryHostFixture : SimulatedHostsFixture
{
    public CatalogOnPrimaryHostFixture()
        : base(0, 1)
    {
    }
}

/// <summary>Runs alone, after the parallel collections, like the other chaos collections.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CatalogOnPrimaryHostCollection : ICollectionFixture<CatalogOnPrimaryHostFixture>
{
    public const string Name = "catalog-on-primary-host";
}

/// <summary>Runs alone, after the parallel collections, like the other chaos collections.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SimulatedHostsCollection : ICollectionFixture<SimulatedHostsFixture>
{
    public const string Name = "simulated-hosts";
}
