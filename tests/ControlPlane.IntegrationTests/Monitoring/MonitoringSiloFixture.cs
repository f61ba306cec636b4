using ControlPlane.Cli;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Monitoring;

/// <summary>
/// The real silo with one tier (<c>oltp</c>: primary and one standby) whose replicas sample every second (the heavy
/// family every two), so regressions, advice, lock chains and alerts show within a test's patience.
/// </summary>
public sealed class MonitoringSiloFixture : IAsyncLifetime
{
    public const string TierName = "oltp";
    public const string Primary = "oltp-1";
    /// <summary>The size the oltp tier's databases may reach together (ControlPlane:Capacity:Tiers:oltp:SizeLimitBytes).</summary>
    public const long CapacitySizeLimit = 1L << 30;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cp-monitoring-" + Guid.NewGuid().ToString("N")[..8]);
    private GrpcChannel? _channel;

    public RunningSilo Silo { get; private set; } = null!;
    public string DataDirectory => Path.Combine(_root, "data");
    public string Endpoint { get; private set; } = "";
    public string TokenFile => Path.Combine(DataDirectory, "admin.token");
    public LogSink Logs { get; } = new();
    public MonitoringService.MonitoringServiceClient Monitoring { get; private set; } = null!;
    public AlertService.AlertServiceClient Alerts { get; private set; } = null!;
    public FleetService.FleetServiceClient Fleet { get; private set; } = null!;
    public CapacityService.CapacityServiceClient Capacity { get; private set; } = null!;
    public ParityService.ParityServiceClient Parity { get; private set; } = null!;
    public TenantService.TenantServiceClient Tenants { get; private set; } = null!;

    private LocalFleet LocalFleet => Silo.Instances.LocalFleet ?? throw new InvalidOperationException("the monitoring silo runs no local fleet");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        var grpcPort = TestPorts.Reserve();
        Silo = await ControlPlaneHost.StartAsync(
            ["--data-dir", DataDirectory, "--grpc-port", grpcPort.ToString(), "--metrics-port", TestPorts.Reserve().ToString()],
            c => c.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ControlPlane:LocalTiers:0"] = TierName,
                ["ControlPlane:Monitoring:CheapInterval"] = "00:00:01",
                ["ControlPlane:Monitoring:HeavyInterval"] = "00:00:02",
                // Capacity samples every second into one-second points, so a growth driven for half a minute is a history (CapacityTests).
                ["ControlPlane:Capacity:Interval"] = "00:00:01",
                ["ControlPlane:Capacity:Resolution"] = "00:00:01",
                ["ControlPlane:Capacity:Tiers:oltp:SizeLimitBytes"] = CapacitySizeLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
                // The drift check of tenant schemas against the template runs every two seconds (ParityServiceTests).
                ["ControlPlane:Parity:Interval"] = "00:00:02",
            }),
            new StringWriter(), CancellationToken.None, configureHost: Logs.AttachTo);
        Endpoint = $"http://127.0.0.1:{grpcPort}";
        _channel = GrpcChannel.ForAddress(Endpoint);
        var token = File.ReadAllText(TokenFile).Trim();
        var invoker = _channel.Intercept(m =>
        {
            m.Add("authorization", "Bearer " + token);
            return m;
        });
        Monitoring = new MonitoringService.MonitoringServiceClient(invoker);
        Alerts = new AlertService.AlertServiceClient(invoker);
        Fleet = new FleetService.FleetServiceClient(invoker);
        Capacity = new CapacityService.CapacityServiceClient(invoker);
        Parity = new ParityService.ParityServiceClient(invoker);
        Tenants = new TenantService.TenantServiceClient(invoker);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (true)
        {
            try
            {
                var tier = await Fleet.GetTierAsync(new GetTierRequest { Tier = TierName });
                if (tier.Health == TierHealth.Healthy && tier.Primary == Primary) break;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the monitoring tier did not become healthy");
            await Task.Delay(250);
        }
    }

    /// <summary>A superuser session on the tier's primary, in the database the control plane monitors.</summary>
    public async Task<NpgsqlConnection> OpenPrimaryAsync(string applicationName = "monitoring-test")
    {
        var endpoint = LocalFleet.Driver(TierName, Primary).Endpoint;
        var builder = new NpgsqlConnectionStringBuilder(AdminSql.ConnectionString(endpoint))
        {
            ApplicationName = applicationName,
            Pooling = false,
            CommandTimeout = 120,
        };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Polls the primary's performance report until <paramref name="condition"/> holds, doing <paramref name="between"/> between polls.</summary>
    public async Task<Performance> WaitForPerformanceAsync(Func<Performance, bool> condition, TimeSpan timeout, Func<Task>? between = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        Performance? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await Monitoring.GetPerformanceAsync(new GetPerformanceRequest { Tier = TierName });
            if (condition(last)) return last;
            if (between is not null) await between();
            await Task.Delay(500);
        }
        throw new TimeoutException($"the performance report did not show the expected state in {timeout}: {last}");
    }

    public async Task<(int Exit, string Out, string Err)> CpctlAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CpctlApp.RunAsync([.. args, "--endpoint", Endpoint, "--token-file", TokenFile], stdout, stderr, CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (Silo is not null) await Silo.DisposeAsync();
        TestDirectory.DeleteQuietly(_root);
    }
}

[CollectionDefinition(Name)]
public sealed class MonitoringCollection : ICollectionFixture<MonitoringSiloFixture>
{
    public const string Name = "monitoring";
}
