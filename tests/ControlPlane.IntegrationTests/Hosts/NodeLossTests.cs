using ControlPlane.IntegrationTests.Failover;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Hosts;

/// <summary>
/// Node loss on three simulated hosts: the primary's host vanishes (its silo and its PostgreSQL SIGKILLed together),
/// the tier fails over to a standby on another host, and when the host comes back its old primary is rejoined as a
/// standby by its own silo (the only one that may touch its files).
/// </summary>
[Collection(SimulatedHostsCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class NodeLossTests(SimulatedHostsFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Losing_the_primarys_host_fails_over_to_another_host_and_the_host_rejoins_through_its_own_silo_when_it_returns()
    {
        var start = await fixture.Through(SimulatedHostsFixture.Hosts[2]).WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(3));
        var lost = SimulatedHostsFixture.Hosts.Single(h => h.Replica == start.Primary);
        var control = fixture.Through(SimulatedHostsFixture.Hosts.First(h => h != lost));
        Assert.All(start.Replicas, r => Assert.Equal(SimulatedHostsFixture.Hosts.Single(h => h.Replica == r.Name).Address, r.Host));
        output.WriteLine($"term {start.Term}: primary {start.Primary} on {lost.Name} ({lost.Address}); tier grain on {start.Silo}");

        await using var writer = AckedWriter.Start(control.Failover, SimulatedHostsFixture.TierName, fixture.SuperuserPasswordFile, "node-loss-" + Guid.NewGuid().ToString("N")[..8]);
        await writer.WaitForAcksAsync(20, TimeSpan.FromSeconds(60));

        var killedAt = DateTimeOffset.UtcNow;
        fixture.Silo(lost).Kill();
        await fixture.Driver(lost).SignalAllAsync(InstanceSignal.Kill, CancellationToken.None);

        var failedOver = await control.WaitAsync(t => t.Term > start.Term && t.Primary != start.Primary, TimeSpan.FromMinutes(2));
        await writer.WaitForAcksAsync(20, TimeSpan.FromSeconds(60));
        var firstAck = writer.FirstAcknowledgedAfter(killedAt, notBy: start.Primary);
        Assert.NotNull(firstAck);
        output.WriteLine($"host {lost.Name} lost: term {failedOver.Term} primary {failedOver.Primary}; first acknowledged write after " +
            $"{(firstAck.Value - killedAt).TotalMilliseconds:0} ms (longest gap {writer.LongestGap().TotalMilliseconds:0} ms)");
        Assert.NotEqual(lost.Address, failedOver.Replicas.Single(r => r.Name == failedOver.Primary).Host);

        // The host returns: only its own silo may rejoin its old primary (rewind, restart as a standby).
        var returned = fixture.StartSilo(lost);
        var healed = await SimulatedHostsFixture.WaitHealedAsync(control, returned, t => TierControl.IsConverged(t)
            && t.Replicas.Single(r => r.Name == start.Primary).Role == ReplicaRole.Standby, TimeSpan.FromMinutes(5));
        output.WriteLine($"host {lost.Name} back: {start.Primary} streams from {healed.Primary} in term {healed.Term}");
        Assert.Equal(failedOver.Term, healed.Term);
        Assert.Contains($"Replica local/{SimulatedHostsFixture.TierName}/{start.Primary} rejoined as a standby of {healed.Primary}", returned.LogTail(2000), StringComparison.Ordinal);
        var decisions = await control.DecisionsAsync();
        foreach (var d in decisions.Where(d => d.Term >= start.Term)) output.WriteLine($"  {d.Sequence} {d.Kind} term {d.Term} {d.Outcome}: {string.Join(" | ", d.Steps)}");
        Assert.Single(decisions, d => d.Term > start.Term && d.Kind == "automatic_failover");
    }
}
