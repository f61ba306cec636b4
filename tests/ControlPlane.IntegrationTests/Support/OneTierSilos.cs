using ControlPlane.IntegrationTests.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.IntegrationTests.Support;

/// <summary>
/// Child silos (killable) one after another on one data directory with a one-tier local fleet (a primary and one
/// standby, no backup schedules), and the cleanup of everything they started. For crash tests.
/// </summary>
internal sealed class OneTierSilos(string prefix, string tier) : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N")[..8]);
    private readonly List<SiloChild> _silos = [];
    private readonly List<GrpcChannel> _channels = [];

    public string DataDirectory => Path.Combine(_root, "data");
    public LocalFleetOptions Fleet => new(DataDirectory) { Tiers = [tier], StandbysPerTier = 1 };

    public SiloChild Launch()
    {
        Directory.CreateDirectory(DataDirectory);
        var (grpc, metrics, siloPort) = (TestPorts.Reserve(), TestPorts.Reserve(), TestPorts.Reserve());
        var silo = SiloChild.Start(
            ["--data-dir", DataDirectory, "--grpc-port", grpc.ToString(), "--metrics-port", metrics.ToString(), "--silo-port", siloPort.ToString()],
            new Dictionary<string, string>
            {
                ["ControlPlane__LocalTiers__0"] = tier,
                ["ControlPlane__StandbysPerTier"] = "1",
                ["ControlPlane__Backups__DefaultPolicy__Schedule"] = "",
                ["ControlPlane__Backups__DefaultPolicy__DrillSchedule"] = "",
            },
            Path.Combine(_root, $"silo-{_silos.Count + 1}.log"), grpc, siloPort);
        _silos.Add(silo);
        return silo;
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
        var token = (await File.ReadAllTextAsync(tokenFile)).Trim();
        var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{silo.GrpcPort}");
        _channels.Add(channel);
        return channel.Intercept(m =>
        {
            m.Add("authorization", "Bearer " + token);
            return m;
        });
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _channels) c.Dispose();
        await Task.WhenAll(_silos.Select(s => s.DisposeAsync().AsTask()));
        await LocalFleet.StopAsync(Fleet, NullLogger.Instance, CancellationToken.None);
        var catalog = new LocalInstanceDriver(new LocalInstanceOptions("catalog", "catalog", Path.Combine(DataDirectory, "catalog", "data"), 0,
            Path.Combine(DataDirectory, "secrets", "catalog.superuser"), null), NullLogger.Instance);
        await catalog.StopAsync(StopMode.Immediate, CancellationToken.None);
        try { Directory.Delete(_root, recursive: true); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
    }
}
