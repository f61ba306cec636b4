using ControlPlane.IntegrationTests.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ControlPlane.IntegrationTests.Support;

/// <summary>
/// Child silos (killable) one after another on one data directory with a one-tier local fleet (a primary and one
/// standby, no backup schedules), the catalog they share, and the cleanup of everything they started (a frozen
/// catalog is thawed first). For crash tests.
/// </summary>
internal sealed class OneTierSilos(string prefix, string tier, IReadOnlyDictionary<string, string>? settings = null) : IAsyncDisposable
{
    private readonly List<SiloChild> _silos = [];
    private readonly List<GrpcChannel> _channels = [];

    /// <summary>The temporary directory holding the data directory and the silos' logs (<c>silo-N.log</c>).</summary>
    public string Root { get; } = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..8]);

    public string DataDirectory => Path.Combine(Root, "data");
    public LocalFleetOptions Fleet => new(DataDirectory) { Tiers = [tier], StandbysPerTier = 1 };

    /// <summary>A silo on the shared data directory, with <paramref name="extraArgs"/> after the usual ones.</summary>
    public SiloChild Launch(params string[] extraArgs)
    {
        Directory.CreateDirectory(DataDirectory);
        var (grpc, metrics, siloPort) = (TestPorts.Reserve(), TestPorts.Reserve(), TestPorts.Reserve());
        var environment = new Dictionary<string, string>
        {
            ["ControlPlane__LocalTiers__0"] = tier,
            ["ControlPlane__StandbysPerTier"] = "1",
            ["ControlPlane__Backups__DefaultPolicy__Schedule"] = "",
            ["ControlPlane__Backups__DefaultPolicy__DrillSchedule"] = "",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) environment[key] = value;
        var silo = SiloChild.Start(
            ["--data-dir", DataDirectory, "--grpc-port", grpc.ToString(), "--metrics-port", metrics.ToString(), "--silo-port", siloPort.ToString(), .. extraArgs],
            environment, Path.Combine(Root, $"silo-{_silos.Count + 1}.log"), grpc, siloPort);
        _silos.Add(silo);
        return silo;
    }

    /// <summary>
    /// Another silo of the same cluster, running beside the first: its own data directory, joining the first's catalog
    /// (<c>--join</c>) with no fleet of its own (<c>--fleet none</c>).
    /// </summary>
    public SiloChild LaunchJoined(params string[] extraArgs)
    {
        var own = Path.Combine(Root, $"joined-{_silos.Count + 1}");
        Directory.CreateDirectory(own);
        var (grpc, metrics, siloPort) = (TestPorts.Reserve(), TestPorts.Reserve(), TestPorts.Reserve());
        var silo = SiloChild.Start(
            ["--data-dir", own, "--grpc-port", grpc.ToString(), "--metrics-port", metrics.ToString(), "--silo-port", siloPort.ToString(),
             "--join", DataDirectory, "--fleet", "none", .. extraArgs],
            new Dictionary<string, string>(settings ?? new Dictionary<string, string>()), Path.Combine(Root, $"silo-{_silos.Count + 1}.log"), grpc, siloPort);
        _silos.Add(silo);
        return silo;
    }

    /// <summary>Stops <paramref name="silo"/> now (SIGTERM, then SIGKILL after 30 s) and leaves it out of the cleanup.</summary>
    public async Task StopAsync(SiloChild silo)
    {
        await silo.DisposeAsync();
        _silos.Remove(silo);
    }

    /// <summary>Calls to <paramref name="silo"/> as the admin, once it has written its token (failing fast if it exited).</summary>
    public async Task<CallInvoker> ConnectAsync(SiloChild silo)
    {
        var tokenFile = Path.Combine(DataDirectory, "admin.token");
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!File.Exists(tokenFile) || new FileInfo(tokenFile).Length == 0)
        {
            silo.ThrowIfExited();
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the silo wrote no admin token");
            await Task.Delay(200);
        }
        return Connect(silo, (await File.ReadAllTextAsync(tokenFile)).Trim());
    }

    /// <summary>Calls to <paramref name="silo"/> with <paramref name="token"/>.</summary>
    public CallInvoker Connect(SiloChild silo, string token)
    {
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{silo.GrpcPort}");
        _channels.Add(channel);
        return channel.Intercept(m =>
        {
            m.Add("authorization", "Bearer " + token);
            return m;
        });
    }

    /// <summary>The embedded catalog the silos share, on the port it last ran on.</summary>
    public async Task<LocalInstanceDriver> CatalogDriverAsync()
    {
        var driver = new LocalInstanceDriver(new LocalInstanceOptions("catalog", "catalog", Path.Combine(DataDirectory, "catalog", "data"), 0,
            Path.Combine(DataDirectory, "secrets", "catalog.superuser"), ReplicatorPasswordFile: null), NullLogger.Instance);
        await driver.AdoptPortAsync(remembered: null, CancellationToken.None);
        return driver;
    }

    /// <summary>A direct (unpooled) connection to the catalog database, as its superuser.</summary>
    public async Task<NpgsqlConnection> OpenCatalogAsync()
    {
        var e = (await CatalogDriverAsync()).Endpoint;
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = e.Host, Port = e.Port, Database = "controlplane", Username = e.User, Password = SecretFile.Read(e.PasswordFile),
            Pooling = false, Timeout = 10,
        }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _channels) c.Dispose();
        await Task.WhenAll(_silos.Select(s => s.DisposeAsync().AsTask()));
        await LocalFleet.StopAsync(Fleet, NullLogger.Instance, CancellationToken.None);
        var catalog = await CatalogDriverAsync();
        // A catalog a test froze is thawed first (a clean stop would hang on it); one that never ran or whose directory
        // a test destroyed has nothing left to stop.
        if (catalog.PostmasterExists()) await catalog.SignalAllAsync(InstanceSignal.Continue, CancellationToken.None);
        try
        {
            await catalog.StopAsync(StopMode.Immediate, CancellationToken.None);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or ProcessFailedException)
        {
        }
        // A catalog standby run beside the catalog (--catalog-standby) outlives a killed silo too.
        var standby = new LocalInstanceDriver(new LocalInstanceOptions("catalog", CatalogStandby.Name, Path.Combine(DataDirectory, "catalog-standby", "data"), 0,
            Path.Combine(DataDirectory, "secrets", "catalog.superuser"), ReplicatorPasswordFile: null), NullLogger.Instance);
        try
        {
            if (standby.PostmasterExists()) await standby.StopAsync(StopMode.Immediate, CancellationToken.None);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or ProcessFailedException)
        {
        }
        try { Directory.Delete(Root, recursive: true); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
    }
}
