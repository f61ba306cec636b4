using System.Net;
using System.Net.Sockets;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace ControlPlane.IntegrationTests.Catalog;

/// <summary>
/// The real silo, in process, with its embedded catalog and one small tier (<c>oltp</c>, a primary and a standby),
/// in its own data directory. Its own collection: the tests kill and freeze the catalog, which would break any test
/// sharing a silo with them. Every test leaves the catalog running and reachable.
/// </summary>
public sealed class CatalogOutageFixture : IAsyncLifetime
{
    public const string TierName = "oltp";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cp-catalog-" + Guid.NewGuid().ToString("N")[..8]);
    private GrpcChannel? _channel;

    public RunningSilo Silo { get; private set; } = null!;
    public string DataDirectory => Path.Combine(_root, "data");
    public string Root => _root;
    public StringWriter Output { get; } = new();
    public LogSink Logs { get; } = new();
    public string Endpoint { get; private set; } = "";
    public string AdminTokenFile => Path.Combine(DataDirectory, "admin.token");
    public string AdminToken { get; private set; } = "";
    public GrpcChannel Channel => _channel!;

    /// <summary>The embedded catalog's driver, as the silo runs it.</summary>
    public LocalInstanceDriver Catalog => Silo.Instances.Catalog?.Driver ?? throw new InvalidOperationException("the silo runs no embedded catalog");

    public CallInvoker Invoker(string token) => Channel.Intercept(m =>
    {
        m.Add("authorization", "Bearer " + token);
        return m;
    });

    public CatalogService.CatalogServiceClient CatalogStatus(string? token = null) => new(Invoker(token ?? AdminToken));

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        var grpcPort = TestPorts.Reserve();
        Silo = await ControlPlaneHost.StartAsync(
            ["--data-dir", DataDirectory, "--grpc-port", grpcPort.ToString(), "--metrics-port", TestPorts.Reserve().ToString()],
            c => c.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ControlPlane:LocalTiers:0"] = TierName,
                ["ControlPlane:StandbysPerTier"] = "1",
            }),
            Output, CancellationToken.None, configureHost: Logs.AttachTo);
        Endpoint = $"http://127.0.0.1:{grpcPort}";
        _channel = GrpcChannel.ForAddress(Endpoint);
        AdminToken = File.ReadAllText(AdminTokenFile).Trim();
        var fleet = new FleetService.FleetServiceClient(Invoker(AdminToken));
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            try
            {
                var tier = await fleet.GetTierAsync(new GetTierRequest { Tier = TierName });
                if (tier.Health == TierHealth.Healthy) break;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("tier oltp not healthy within 3 minutes");
            await Task.Delay(250);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds, or fails after <paramref name="timeout"/> with the last reading.</summary>
    public async Task<GetCatalogStatusResponse> WaitForCatalogAsync(Func<GetCatalogStatusResponse, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        GetCatalogStatusResponse? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await CatalogStatus().GetCatalogStatusAsync(new GetCatalogStatusRequest());
            if (condition(last)) return last;
            await Task.Delay(200);
        }
        throw new TimeoutException($"catalog status did not reach the expected state in {timeout}: {last}");
    }

    /// <summary>Whatever a test did, the catalog runs again afterwards (thawed if frozen).</summary>
    public async Task ThawAsync()
    {
        if (Catalog.PostmasterPid() is not null && Catalog.PostmasterExists())
            await Catalog.KillAsync(InstanceSignal.Continue, CancellationToken.None);
        await WaitForCatalogAsync(s => s.Reachable, TimeSpan.FromMinutes(1));
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (Silo is not null)
        {
            try
            {
                if (Catalog.PostmasterExists()) await Catalog.KillAsync(InstanceSignal.Continue, CancellationToken.None);
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or TimeoutException)
            {
            }
            await Silo.DisposeAsync();
        }
        TestDirectory.DeleteQuietly(_root);
    }
}

[CollectionDefinition(Name)]
public sealed class CatalogOutageCollection : ICollectionFixture<CatalogOutageFixture>
{
    public const string Name = "catalog-outage";
}
