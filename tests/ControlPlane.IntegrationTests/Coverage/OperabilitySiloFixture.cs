using ControlPlane.IntegrationTests.Backups;
using ControlPlane.IntegrationTests.Failover;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace ControlPlane.IntegrationTests.Coverage;

/// <summary>
/// The real silo, in process, with one tier (<c>oltp</c>: a primary and a standby) and its backups in a temporary
/// repository; schedules and the coverage keeper are off, so coverage changes only with what a test does. Shared by
/// the coverage, runbook and documentation tests: one silo for all three.
/// </summary>
public sealed class OperabilitySiloFixture : IAsyncLifetime
{
    public const string TierName = "oltp";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cp-operability-" + Guid.NewGuid().ToString("N")[..8]);
    private GrpcChannel? _channel;

    public RunningSilo Silo { get; private set; } = null!;
    public string DataDirectory => Path.Combine(_root, "data");
    /// <summary>The embedded default repository (none configured), so the fleet passes its own hardening audit as documented.</summary>
    public string Repository => Path.Combine(DataDirectory, "backups");
    public int GrpcPort { get; } = TestPorts.Reserve();
    public string Endpoint => $"http://127.0.0.1:{GrpcPort}";
    public string AdminToken { get; private set; } = "";
    public StringWriter Output { get; } = new();
    public LogSink Logs { get; } = new();
    public CallInvoker Invoker { get; private set; } = null!;
    public BackupControl Backups { get; private set; } = null!;
    public TierControl Tier { get; private set; } = null!;

    public string PasswordFile => (Silo.Instances.LocalFleet ?? throw new InvalidOperationException("no local fleet")).Options.SuperuserPasswordFile(TierName);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        Silo = await ControlPlaneHost.StartAsync(
            ["--data-dir", DataDirectory, "--grpc-port", GrpcPort.ToString(), "--metrics-port", TestPorts.Reserve().ToString()],
            c => c.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ControlPlane:LocalTiers:0"] = TierName,
                ["ControlPlane:StandbysPerTier"] = "1",
                ["ControlPlane:Backups:DefaultPolicy:Schedule"] = "0 3 * * *",
                ["ControlPlane:Backups:DefaultPolicy:DrillSchedule"] = "0 5 * * 0",
                // A loaded test machine may briefly archive a second behind: the drills are what these tests prove.
                ["ControlPlane:Backups:DefaultPolicy:RpoTarget"] = "00:01:00",
                ["ControlPlane:Coverage:Interval"] = "00:00:00",
            }),
            Output, CancellationToken.None, configureHost: Logs.AttachTo);
        _channel = GrpcChannel.ForAddress(new Uri(Endpoint));
        AdminToken = File.ReadAllText(Path.Combine(DataDirectory, "admin.token")).Trim();
        Invoker = _channel.Intercept(m =>
        {
            m.Add("authorization", "Bearer " + AdminToken);
            return m;
        });
        Tier = new TierControl(new FleetService.FleetServiceClient(Invoker), new FailoverService.FailoverServiceClient(Invoker), TierName, PasswordFile);
        Backups = new BackupControl(new BackupService.BackupServiceClient(Invoker), TierName, PasswordFile);
        await Tier.WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(3));
        await Backups.WaitForArchiveAsync(TimeSpan.FromMinutes(1));
    }

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        if (Silo is not null) await Silo.DisposeAsync();
        TestDirectory.DeleteQuietly(_root);
    }
}

[CollectionDefinition(Name)]
public sealed class OperabilityCollection : ICollectionFixture<OperabilitySiloFixture>
{
    public const string Name = "operability-silo";
}
