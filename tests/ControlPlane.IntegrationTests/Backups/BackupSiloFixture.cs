using System.Net;
using System.Net.Sockets;
using ControlPlane.IntegrationTests.Failover;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Protos.V1;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Xunit;

namespace ControlPlane.IntegrationTests.Backups;

/// <summary>
/// The real silo, in process, with one tier (<c>oltp</c>: a primary and a standby) whose backups go to a repository
/// and a second repository in its own temporary directory. Schedules start off; tests turn on what they prove.
/// </summary>
public sealed class BackupSiloFixture : IAsyncLifetime
{
    public const string TierName = "oltp";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cp-backups-" + Guid.NewGuid().ToString("N")[..8]);
    private GrpcChannel? _channel;

    public RunningSilo Silo { get; private set; } = null!;
    public string DataDirectory => Path.Combine(_root, "data");
    public string Repository => Path.Combine(_root, "repo");
    public string SecondRepository => Path.Combine(_root, "repo-dr");
    public StringWriter Output { get; } = new();
    public LogSink Logs { get; } = new();
    public BackupControl Backups { get; private set; } = null!;
    public TierControl Tier { get; private set; } = null!;

    public LocalFleet Fleet => Silo.Instances.LocalFleet ?? throw new InvalidOperationException("the backup silo runs no local fleet");

    public string PasswordFile => Fleet.Options.SuperuserPasswordFile(TierName);

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
                ["ControlPlane:Backups:DefaultPolicy:Schedule"] = "",
                ["ControlPlane:Backups:DefaultPolicy:DrillSchedule"] = "",
                ["ControlPlane:Backups:DefaultPolicy:Repository"] = Repository,
                ["ControlPlane:Backups:DefaultPolicy:SecondRepository"] = SecondRepository,
            }),
            Output, CancellationToken.None, configureHost: Logs.AttachTo);
        _channel = GrpcChannel.ForAddress(new Uri($"http://127.0.0.1:{grpcPort}"));
        var token = File.ReadAllText(Path.Combine(DataDirectory, "admin.token")).Trim();
        var invoker = _channel.Intercept(m =>
        {
            m.Add("authorization", "Bearer " + token);
            return m;
        });
        Tier = new TierControl(new FleetService.FleetServiceClient(invoker), new FailoverService.FailoverServiceClient(invoker), TierName, PasswordFile);
        Backups = new BackupControl(new BackupService.BackupServiceClient(invoker), TierName, PasswordFile);
        await Tier.WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(3));
        await Tier.CreateWritesTableAsync();
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
public sealed class BackupCollection : ICollectionFixture<BackupSiloFixture>
{
    public const string Name = "backups-silo";
}
