using System.Net;
using System.Net.Sockets;
using ControlPlane.IntegrationTests.Backups;
using ControlPlane.IntegrationTests.Failover;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Protos.V1;
using ControlPlane.Silo.Hosting;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ControlPlane.IntegrationTests.Catalog;

/// <summary>
/// A one-tier silo (oltp: a primary and a standby, backups to a local repository) given a history (a switchover,
/// a backup), then stopped. Between tests only its catalog runs, so a test can rewrite the rows as the previous
/// release wrote them and start the silo again on them.
/// </summary>
public sealed class GrainStateUpgradeFixture : IAsyncLifetime
{
    public const string TierName = "oltp";
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cp-upgrade-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly int _grpcPort = TestPorts.Reserve();
    private CatalogInstance? _catalog;

    public string DataDirectory => Path.Combine(_root, "data");
    public string Repository => Path.Combine(_root, "repo");
    public LogSink Logs { get; } = new();
    public string Catalog { get; private set; } = "";

    /// <summary>What the tier and its backups looked like when the silo was stopped.</summary>
    public Tier TierBefore { get; private set; } = null!;
    public IReadOnlyList<Decision> DecisionsBefore { get; private set; } = [];
    public IReadOnlyList<Backup> BackupsBefore { get; private set; } = [];

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_root);
        var silo = await StartSiloAsync();
        try
        {
            var (tier, backups) = Controls(silo);
            await tier.WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(3));
            var first = await tier.GetAsync();
            var op = await tier.Failover.SwitchoverAsync(new SwitchoverRequest { Tier = TierName });
            await tier.WaitOperationAsync(op.Id, TimeSpan.FromMinutes(2));
            await tier.WaitAsync(t => TierControl.IsConverged(t) && t.Term > first.Term, TimeSpan.FromMinutes(2));
            await backups.TakeAsync();
            TierBefore = await tier.GetAsync();
            DecisionsBefore = await tier.DecisionsAsync();
            BackupsBefore = await backups.ListAsync();
            Catalog = silo.Instances.CatalogConnectionString;
        }
        finally
        {
            await silo.DisposeAsync();
        }
        _catalog = await CatalogInstance.EnsureAsync(DataDirectory, NullLogger.Instance, CancellationToken.None);
    }

    /// <summary>Stops the lone catalog, runs <paramref name="test"/> against a silo on the same data, then brings back the lone catalog.</summary>
    public async Task WithSiloAsync(Func<RunningSilo, TierControl, BackupControl, PoolService.PoolServiceClient, Task> test)
    {
        await _catalog!.StopAsync(CancellationToken.None);
        _catalog = null;
        var silo = await StartSiloAsync();
        try
        {
            var (tier, backups) = Controls(silo);
            await test(silo, tier, backups, new PoolService.PoolServiceClient(Invoker(silo)));
        }
        finally
        {
            await silo.DisposeAsync();
            _catalog = await CatalogInstance.EnsureAsync(DataDirectory, NullLogger.Instance, CancellationToken.None);
        }
    }

    public async Task DisposeAsync()
    {
        if (_catalog is not null) await _catalog.StopAsync(CancellationToken.None);
        TestDirectory.DeleteQuietly(_root);
    }

    private Task<RunningSilo> StartSiloAsync() => ControlPlaneHost.StartAsync(
        ["--data-dir", DataDirectory, "--grpc-port", _grpcPort.ToString(), "--metrics-port", TestPorts.Reserve().ToString()],
        c => c.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ControlPlane:LocalTiers:0"] = TierName,
            ["ControlPlane:StandbysPerTier"] = "1",
            ["ControlPlane:Backups:DefaultPolicy:Schedule"] = "",
            ["ControlPlane:Backups:DefaultPolicy:DrillSchedule"] = "",
            ["ControlPlane:Backups:DefaultPolicy:Repository"] = Repository,
        }),
        TextWriter.Null, CancellationToken.None, configureHost: Logs.AttachTo);

    private (TierControl Tier, BackupControl Backups) Controls(RunningSilo silo)
    {
        var invoker = Invoker(silo);
        var passwordFile = silo.Instances.LocalFleet!.Options.SuperuserPasswordFile(TierName);
        return (new TierControl(new FleetService.FleetServiceClient(invoker), new FailoverService.FailoverServiceClient(invoker), TierName, passwordFile),
            new BackupControl(new BackupService.BackupServiceClient(invoker), TierName, passwordFile));
    }

    private Grpc.Core.CallInvoker Invoker(RunningSilo silo)
    {
        var channel = GrpcChannel.ForAddress(silo.GrpcEndpoint);
        var token = File.ReadAllText(Path.Combine(DataDirectory, "admin.token")).Trim();
        return channel.Intercept(m =>
        {
            m.Add("authorization", "Bearer " + token);
            return m;
        });
    }
}

[CollectionDefinition(Name)]
public sealed class GrainStateUpgradeCollection : ICollectionFixture<GrainStateUpgradeFixture>
{
    public const string Name = "grain-state-upgrade";
}
