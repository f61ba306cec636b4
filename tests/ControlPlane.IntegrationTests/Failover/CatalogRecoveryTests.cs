using ControlPlane.IntegrationTests.Support;
using System.Net;
using System.Net.Sockets;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// The term only goes up across a silo lost during a catalog outage and across a catalog restored from an old copy.
/// Each test runs its own silo as a child process (so it can be SIGKILLed and restarted on the same data directory)
/// with one tier, a primary and one standby.
/// </summary>
[Collection(CatalogRecoveryCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class CatalogRecoveryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string TierName = "oltp";
    private static readonly TimeSpan Converge = TimeSpan.FromMinutes(3);
    private readonly OneTierSilos _silos = new("cp-catalog-rec-", TierName);

    private LocalFleetOptions Fleet => _silos.Fleet;

    [Fact]
    public async Task A_silo_killed_after_deciding_while_the_catalog_was_frozen_leaves_a_term_no_later_activation_undercuts()
    {
        var first = Launch();
        var tier = await ConnectAsync(first);
        var start = await tier.WaitAsync(TierControl.IsConverged, Converge);
        var instances = await tier.InstancesAsync();
        var catalog = await CatalogDriverAsync();
        await catalog.SignalAllAsync(InstanceSignal.Stop, CancellationToken.None);
        TermMark decided;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            await Driver(start.Primary).KillAsync(InstanceSignal.Kill, CancellationToken.None);
            // Seen from the fleet itself (the gateway refuses calls while the catalog is down): a standby promoted in a new term.
            decided = await WaitForTermAsync(instances.Where(i => i.Name != start.Primary), start.Term, TimeSpan.FromSeconds(60));
            Assert.True(File.Exists(JournalFile), $"the decision of term {decided.Term} is journaled on the silo's disk");
            output.WriteLine($"catalog frozen: {start.Primary} SIGKILLed; {decided.Primary} carries term {decided.Term}; killing the silo");
            first.Kill();
        }
        finally
        {
            await catalog.SignalAllAsync(InstanceSignal.Continue, CancellationToken.None);
        }

        var second = Launch();
        tier = await ConnectAsync(second);
        var after = await tier.WaitAsync(t => TierControl.IsConverged(t) && t.Term >= decided.Term, Converge);
        Assert.Equal(decided.Term, after.Term);
        Assert.Equal(decided.Primary, after.Primary);
        var failovers = (await tier.DecisionsAsync()).Where(d => d.Term > start.Term && d.Kind is "automatic_failover" or "manual_failover").ToList();
        Assert.Equal(decided.Term, Assert.Single(failovers).Term);

        var end = await SwitchOverAsync(tier);
        output.WriteLine($"after the restart: term {after.Term} primary {after.Primary}; switchover to {end.Primary} in term {end.Term}");
        Assert.True(end.Term > decided.Term, $"the switchover's term {end.Term} must be above {decided.Term}, which the fleet carries");
        Assert.Equal(new TermMark(end.Term, end.Primary), await TermHistory.ReadAsync(Endpoint(await tier.InstanceAsync(end.Primary)), CancellationToken.None));
    }

    [Fact]
    public async Task A_catalog_rolled_back_to_an_older_tier_state_is_reconciled_up_to_the_fleet_and_never_lowers_the_term()
    {
        var first = Launch();
        var tier = await ConnectAsync(first);
        var start = await tier.WaitAsync(TierControl.IsConverged, Converge);
        var old = await ReadTierRowAsync();
        var mid = await SwitchOverAsync(tier);
        Assert.True(mid.Term > start.Term);
        await _silos.StopAsync(first);

        // As if the catalog had been restored from a copy taken before the switchover.
        var catalog = await CatalogDriverAsync();
        await catalog.StartAsync(CancellationToken.None);
        await WriteTierRowAsync(old);
        await catalog.StopAsync(StopMode.Fast, CancellationToken.None);

        var second = Launch();
        tier = await ConnectAsync(second);
        var after = await tier.WaitAsync(t => TierControl.IsConverged(t) && t.Term >= mid.Term, Converge);
        Assert.Equal(mid.Term, after.Term);
        Assert.Equal(mid.Primary, after.Primary);
        var reconciled = Assert.Single(await tier.DecisionsAsync(), d => d.Kind == "term_reconciled");
        output.WriteLine($"restored catalog said term {start.Term}; {reconciled.Reason}");
        Assert.Equal(mid.Term, reconciled.Term);

        var end = await SwitchOverAsync(tier);
        Assert.True(end.Term > mid.Term, $"the switchover's term {end.Term} must be above {mid.Term}, which the fleet carries");
    }

    private string JournalFile => Path.Combine(_silos.DataDirectory, "journal", "local.oltp.journal");

    private async Task<Tier> SwitchOverAsync(TierControl tier)
    {
        var before = await tier.WaitConvergedAsync();
        var op = await tier.Failover.SwitchoverAsync(new SwitchoverRequest { Tier = TierName });
        var done = await tier.WaitOperationAsync(op.Id, TimeSpan.FromSeconds(90));
        Assert.True(done.State == OperationState.Succeeded, $"switchover failed: {done}");
        return await tier.WaitAsync(t => TierControl.IsConverged(t) && t.Term > before.Term, Converge);
    }

    private static async Task<TermMark> WaitForTermAsync(IEnumerable<ChaosInstance> instances, long above, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var i in instances)
            {
                try
                {
                    if (await TermHistory.ReadAsync(Endpoint(i), CancellationToken.None) is { } mark && mark.Term > above) return mark;
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
                {
                }
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"no instance carried a term above {above} within {timeout}");
    }

    private async Task<byte[]> ReadTierRowAsync()
    {
        await using var connection = await OpenCatalogAsync();
        await using var cmd = new NpgsqlCommand("SELECT payload_binary FROM orleans_grain_state WHERE grain_type_string = 'tier'", connection);
        var rows = new List<byte[]>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add((byte[])reader[0]);
        return Assert.Single(rows);
    }

    private async Task WriteTierRowAsync(byte[] payload)
    {
        await using var connection = await OpenCatalogAsync();
        await using var cmd = new NpgsqlCommand("UPDATE orleans_grain_state SET payload_binary = $1 WHERE grain_type_string = 'tier'", connection)
        {
            Parameters = { new() { Value = payload } },
        };
        Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
    }

    private Task<NpgsqlConnection> OpenCatalogAsync() => _silos.OpenCatalogAsync();

    private Task<LocalInstanceDriver> CatalogDriverAsync() => _silos.CatalogDriverAsync();

    private LocalInstanceDriver Driver(string replica) =>
        new(new LocalInstanceOptions(TierName, replica, Fleet.ReplicaDataDirectory(TierName, replica), 0, Fleet.SuperuserPasswordFile(TierName), null),
            NullLogger.Instance);

    private static ReplicaEndpoint Endpoint(ChaosInstance i) => new(TierName, i.Name, i.Host, i.Port, "postgres", "postgres", i.PasswordFile, null);

    private SiloChild Launch() => _silos.Launch();

    private async Task<TierControl> ConnectAsync(SiloChild silo)
    {
        var invoker = await _silos.ConnectAsync(silo);
        var tier = new TierControl(new FleetService.FleetServiceClient(invoker), new FailoverService.FailoverServiceClient(invoker), TierName,
            Fleet.SuperuserPasswordFile(TierName));
        await tier.WaitAsync(_ => true, TimeSpan.FromMinutes(2));
        return tier;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _silos.DisposeAsync();
}

/// <summary>Freezes and kills a catalog and silos of its own: runs alone, like the other chaos collections.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CatalogRecoveryCollection
{
    public const string Name = "failover-catalog-recovery";
}
