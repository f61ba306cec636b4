using System.Net;
using System.Net.Sockets;
using ControlPlane.Protos.V1;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace ControlPlane.IntegrationTests.Support;

/// <summary>
/// The real silo, in process, with its embedded catalog and the four-tier local fleet in a temporary data directory,
/// on free loopback ports. Shared by every end-to-end test: provisioning nine instances is the expensive part.
/// </summary>
public sealed class SiloFixture : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cp-e2e-" + Guid.NewGuid().ToString("N")[..8]);
    private GrpcChannel? _channel;

    public RunningSilo Silo { get; private set; } = null!;
    public string DataDirectory => Path.Combine(_root, "data");
    public int GrpcPort { get; } = TestPorts.Reserve();
    public int MetricsPort { get; } = TestPorts.Reserve();
    public string Endpoint => $"http://127.0.0.1:{GrpcPort}";
    public StringWriter Output { get; } = new();

    /// <summary>Every log line of every silo this fixture started.</summary>
    public LogSink Logs { get; } = new();

    /// <summary>The admin token the silo wrote on first start, as a user finds it.</summary>
    public string AdminTokenFile => Path.Combine(DataDirectory, "admin.token");
    public string AdminToken { get; private set; } = "";

    /// <summary>Calls with <paramref name="token"/> as bearer token (none when null), over the fixture's channel.</summary>
    public CallInvoker Invoker(string? token) =>
        token is null ? Channel.CreateCallInvoker() : Channel.Intercept(m =>
        {
            m.Add("authorization", "Bearer " + token);
            return m;
        });

    public FleetService.FleetServiceClient Fleet { get; private set; } = null!;
    public GrpcChannel Channel => _channel!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        await StartAsync();
        await WaitForHealthyFleetAsync(TimeSpan.FromMinutes(3));
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (Silo is not null) await Silo.DisposeAsync();
        TestDirectory.DeleteQuietly(_root);
    }

    /// <summary>Stops the silo and its instances cleanly and starts it again on the same data directory.</summary>
    public async Task RestartAsync()
    {
        _channel?.Dispose();
        await Silo.DisposeAsync();
        await StartAsync();
    }

    public async Task<ListTiersResponse> WaitForHealthyFleetAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        ListTiersResponse? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await Fleet.ListTiersAsync(new ListTiersRequest());
                if (last.Tiers.Count == 4 && last.Tiers.All(t => t.Health == TierHealth.Healthy)) return last;
            }
            catch (Grpc.Core.RpcException)
            {
                // Registration still under way.
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"fleet not healthy after {timeout}: {last}");
    }

    public async Task<Tier> WaitForTierAsync(string tier, Func<Tier, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        Tier? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await Fleet.GetTierAsync(new GetTierRequest { Tier = tier });
            if (condition(last)) return last;
            await Task.Delay(200);
        }
        throw new TimeoutException($"tier {tier} did not reach the expected state in {timeout}: {last}");
    }

    /// <summary>
    /// One cross-tier pair (olap's copy of a tenant's orders against queue's originals, Consistency/CrossTierPairTests).
    /// A pair is checked with its left tier's consistency check, and no other test runs one on olap (verify and the
    /// consistency tests use queue and content).
    /// </summary>
    private static readonly Dictionary<string, string?> CrossTierPair = new()
    {
        ["ControlPlane:Consistency:Pairs:0:Name"] = "xt-orders",
        ["ControlPlane:Consistency:Pairs:0:LeftTier"] = "olap",
        ["ControlPlane:Consistency:Pairs:0:LeftQuery"] = "SELECT count(*) FROM xt_orders_fact WHERE tenant = 'acme'",
        ["ControlPlane:Consistency:Pairs:0:RightTier"] = "queue",
        ["ControlPlane:Consistency:Pairs:0:RightQuery"] = "SELECT count(*) FROM xt_orders WHERE tenant = 'acme'",
    };

    private async Task StartAsync()
    {
        Silo = await ControlPlaneHost.StartAsync(
            ["--data-dir", DataDirectory, "--grpc-port", GrpcPort.ToString(), "--metrics-port", MetricsPort.ToString()],
            configure: c => c.AddInMemoryCollection(CrossTierPair), Output, CancellationToken.None, configureHost: Logs.AttachTo);
        _channel = GrpcChannel.ForAddress(Endpoint);
        AdminToken = File.ReadAllText(AdminTokenFile).Trim();
        Fleet = new FleetService.FleetServiceClient(Invoker(AdminToken));
    }
}

[CollectionDefinition(Name)]
public sealed class SiloCollection : ICollectionFixture<SiloFixture>
{
    public const string Name = "silo";
}
