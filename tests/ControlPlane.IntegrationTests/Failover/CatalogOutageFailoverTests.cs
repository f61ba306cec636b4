using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Instances;
using ControlPlane.Silo.Failover;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// Failover while the catalog is frozen (SIGSTOP): the tier decides from memory, journals the decision on the silo's
/// disk and fences it by the term carried in the instances; the catalog is brought up to date when it thaws. The
/// gateway refuses calls while the catalog is down, so during the outage the writer is routed by the tier grain
/// itself (in process) and the tier is read the same way.
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class CatalogOutageFailoverTests(ChaosSiloFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan DecisionTimeout = TimeSpan.FromSeconds(60);
    private TierControl Tier => fixture.Tier;
    private IGrainFactory GrainFactory => fixture.Silo.Services.GetRequiredService<IGrainFactory>();
    private ITierGrain TierGrain => GrainFactory.GetGrain<ITierGrain>(FleetKeys.Tier("local", ChaosSiloFixture.TierName));

    [Fact]
    public async Task A_primary_killed_while_the_catalog_is_frozen_fails_over_once_and_the_catalog_catches_up_with_the_fleet_term()
    {
        await Tier.ResetAsync();
        var start = await Tier.WaitConvergedAsync();
        Assert.True(TierControl.IsConverged(start), $"not converged: {start}");
        var instances = await Tier.InstancesAsync();
        var history = HistoryChecker.Start(instances);
        await using var writer = AckedWriter.Start(async _ => FailoverMapper.Routing((await TierGrain.GetSnapshot())!), fixture.PasswordFile,
            "catalog-down-" + Guid.NewGuid().ToString("N")[..6]);
        await writer.WaitForAcksAsync(20, TimeSpan.FromSeconds(30));

        var catalog = await fixture.CatalogDriverAsync();
        await catalog.SignalAllAsync(InstanceSignal.Stop, CancellationToken.None);
        TierSnapshot after;
        DateTimeOffset killedAt;
        try
        {
            // Long enough for the tier to have tried (and abandoned) a catalog write: it is in its degraded mode.
            await Task.Delay(TimeSpan.FromSeconds(3));
            killedAt = DateTimeOffset.UtcNow;
            await fixture.Driver(start.Primary).KillAsync(InstanceSignal.Kill, CancellationToken.None);
            after = await WaitForGrainAsync(s => s.Term > start.Term && s.Primary != start.Primary, DecisionTimeout);
            var firstWrite = await WaitForFirstWriteAsync(writer, killedAt, start.Primary);
            output.WriteLine($"catalog frozen: {start.Primary} SIGKILLed -> term {after.Term} primary {after.Primary}; " +
                $"first acknowledged write on the new primary after {(firstWrite - killedAt).TotalMilliseconds:F0} ms");

            // The new term is in the new primary itself, written before clients were routed to it, and in its standbys.
            var carried = await TermHistory.ReadAsync(Endpoint(instances.Single(i => i.Name == after.Primary)), CancellationToken.None);
            Assert.Equal(new TermMark(after.Term, after.Primary), carried);
            // The catalog still holds the old term: nothing reached it.
            Assert.Equal(start.Term, (await ReadCatalogStateAsync(timeout: null))?.Term ?? start.Term);
        }
        finally
        {
            await catalog.SignalAllAsync(InstanceSignal.Continue, CancellationToken.None);
        }

        var caughtUp = await WaitForCatalogAsync(s => s.Term == after.Term, TimeSpan.FromSeconds(60));
        Assert.Equal(after.Primary, caughtUp.Primary);
        var end = await Tier.WaitConvergedAsync();
        Assert.True(TierControl.IsConverged(end), $"not converged after the catalog returned: {end}");
        await writer.WaitForAcksAsync(5, TimeSpan.FromSeconds(30));
        await writer.StopAsync();
        await history.DisposeAsync();
        output.WriteLine($"history: {history.Summary()}");
        Assert.Empty(history.SplitBrainRounds());

        Assert.Equal(after.Term, end.Term);
        Assert.Equal(after.Primary, end.Primary);
        var failovers = (await Tier.DecisionsAsync()).Where(d => d.Term > start.Term && d.Kind is "automatic_failover" or "manual_failover").ToList();
        var failover = Assert.Single(failovers);
        output.WriteLine($"decision {failover.Sequence} term {failover.Term}: {string.Join(" | ", failover.Steps)}");
        Assert.Equal("completed", failover.Outcome);
        Assert.Single(caughtUp.Decisions, d => d.Term > start.Term && d.Kind == ControlPlane.Grains.Failover.DecisionKind.AutomaticFailover);
        var journal = fixture.Silo.Services.GetRequiredService<ControlPlane.Grains.Failover.DecisionJournal>();
        Assert.False(File.Exists(journal.PathOf(FleetKeys.Tier("local", ChaosSiloFixture.TierName))), "the journal is cleared once the catalog holds it");
    }

    private async Task<TierSnapshot> WaitForGrainAsync(Func<TierSnapshot, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        TierSnapshot? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await TierGrain.GetSnapshot();
            if (last is not null && condition(last)) return last;
            await Task.Delay(100);
        }
        throw new TimeoutException($"the tier grain did not reach the condition within {timeout}; last seen: {last}");
    }

    private static async Task<DateTimeOffset> WaitForFirstWriteAsync(AckedWriter writer, DateTimeOffset after, string oldPrimary)
    {
        var deadline = DateTime.UtcNow + DecisionTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (writer.FirstAcknowledgedAfter(after, oldPrimary) is { } at) return at;
            await Task.Delay(20);
        }
        throw new TimeoutException($"no write acknowledged by a new primary within {DecisionTimeout}");
    }

    /// <summary>The tier's state as the catalog holds it (not the grain's memory), read through the silo's own storage provider.</summary>
    private async Task<TierState?> ReadCatalogStateAsync(TimeSpan? timeout)
    {
        var storage = fixture.Silo.Services.GetRequiredKeyedService<IGrainStorage>(FleetKeys.Storage);
        var grainState = new GrainState<TierState>();
        var read = storage.ReadStateAsync("tier", TierGrain.GetGrainId(), grainState);
        // While the catalog is frozen the read cannot finish: that is the point, not a failure.
        if (await Task.WhenAny(read, Task.Delay(timeout ?? TimeSpan.FromSeconds(1))) != read) return null;
        await read;
        return grainState.State;
    }

    private async Task<TierState> WaitForCatalogAsync(Func<TierState, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        TierState? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                last = await ReadCatalogStateAsync(TimeSpan.FromSeconds(5));
                if (last is not null && condition(last)) return last;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                output.WriteLine($"catalog read failed: {ex.GetBaseException().Message}");
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"the catalog's tier state did not catch up within {timeout}; last seen term {last?.Term} primary {last?.Primary}");
    }

    private static ControlPlane.Postgres.Fleet.ReplicaEndpoint Endpoint(ChaosInstance i) =>
        new(ChaosSiloFixture.TierName, i.Name, i.Host, i.Port, "postgres", "postgres", i.PasswordFile, null);
}
