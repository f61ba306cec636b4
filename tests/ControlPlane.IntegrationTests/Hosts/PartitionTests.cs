using ControlPlane.IntegrationTests.Failover;
using ControlPlane.Protos.V1;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Hosts;

/// <summary>
/// Network partitions of the simulated hosts (nftables, <see cref="NetworkPartition"/>). The primary's host cut off
/// from the other hosts both ways: its silo reaches neither the catalog nor another silo and fences its primary
/// itself, before the cluster votes the silo dead and another host promotes; a client that reaches both sides (the
/// checker) never finds two instances taking writes at once; once the partition heals the old primary rejoins as a
/// standby through its own silo.
/// </summary>
[Collection(SimulatedHostsCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class PartitionTests(SimulatedHostsFixture fixture, ITestOutputHelper output)
{
    [PartitionFact]
    public async Task A_primary_cut_off_from_the_other_hosts_fences_itself_before_another_host_promotes_and_rejoins_when_the_partition_heals()
    {
        var partitions = fixture.Partitions!;
        var start = await fixture.Through(SimulatedHostsFixture.Hosts[2]).WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(5));
        var isolated = SimulatedHostsFixture.Hosts.Single(h => h.Replica == start.Primary);
        var control = fixture.Through(SimulatedHostsFixture.Hosts.First(h => h != isolated));
        await using (var connection = await Instance(isolated).OpenAsync(5, 30, CancellationToken.None))
        await using (var create = new Npgsql.NpgsqlCommand(WriteChecker.CreateTableSql, connection))
        {
            await create.ExecuteNonQueryAsync();
        }
        await using var checker = WriteChecker.Start(SimulatedHostsFixture.Hosts.Select(Instance).ToList());
        await checker.WaitForAcceptedAsync(start.Primary, 10, TimeSpan.FromMinutes(1));

        var cutAt = DateTimeOffset.UtcNow;
        await partitions.IsolateAsync(isolated.Name);
        output.WriteLine($"{cutAt:HH:mm:ss.fff} cut {isolated.Name} ({start.Primary}, term {start.Term}) off from the other hosts");
        Tier failedOver;
        try
        {
            failedOver = await control.WaitAsync(t => t.Term > start.Term && t.Primary != start.Primary, TimeSpan.FromMinutes(2));
            await checker.WaitForAcceptedAsync(failedOver.Primary, 10, TimeSpan.FromMinutes(1));
        }
        finally
        {
            await partitions.HealAsync();
        }
        var healedAt = DateTimeOffset.UtcNow;
        var lastOld = checker.Accepted(start.Primary).Max(a => a.ServerTime!.Value);
        var firstNew = checker.Accepted(failedOver.Primary).Min(a => a.ServerTime!.Value);
        output.WriteLine($"{start.Primary} took its last write {(lastOld - cutAt).TotalMilliseconds:0} ms after the cut (bound {new ControlPlane.Grains.Hosts.SelfFenceSettings().FencedWithin.TotalMilliseconds:0} ms); " +
            $"{failedOver.Primary} (term {failedOver.Term}) its first {(firstNew - cutAt).TotalMilliseconds:0} ms after; healed after {(healedAt - cutAt).TotalMilliseconds:0} ms");
        var isolatedLog = fixture.Silo(isolated).LogTail(4000);
        Assert.Contains($"Self-fenced {SimulatedHostsFixture.TierName}/{start.Primary}", isolatedLog, StringComparison.Ordinal);
        Assert.True(lastOld < firstNew, $"{start.Primary} still took a write at {lastOld:HH:mm:ss.fff}, after {failedOver.Primary} took one at {firstNew:HH:mm:ss.fff}");
        Assert.Empty(checker.TwoWritableRounds());

        // The isolated silo learns, back in touch, that the cluster voted it dead and stops; its host restarts it.
        var silo = fixture.Silo(isolated);
        var healed = await WaitAsync(control, () => silo = silo.HasExited ? fixture.StartSilo(isolated) : silo,
            t => TierControl.IsConverged(t) && t.Replicas.Single(r => r.Name == start.Primary).Role == ReplicaRole.Standby, TimeSpan.FromMinutes(5));
        output.WriteLine($"healed: {start.Primary} streams from {healed.Primary} in term {healed.Term}; {checker.Summary()}");
        Assert.Equal(failedOver.Term, healed.Term);
        Assert.Empty(checker.TwoWritableRounds());
        Assert.True(checker.Accepted(start.Primary).All(a => a.ServerTime < firstNew), $"{start.Primary} took writes after the failover");
    }

    private ChaosInstance Instance(SimulatedHost host) => new(host.Replica, host.Address, fixture.PostgresPort(host), fixture.SuperuserPasswordFile);

    /// <summary>Waits for <paramref name="condition"/>, calling <paramref name="keepHostUp"/> between looks (a silo that stopped is restarted).</summary>
    private static async Task<Tier> WaitAsync(TierControl control, Func<SiloChild> keepHostUp, Func<Tier, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var silo = keepHostUp();
            var remaining = deadline - DateTime.UtcNow;
            var tier = await control.WaitAsync(condition, remaining < TimeSpan.FromSeconds(10) ? remaining : TimeSpan.FromSeconds(10), throwOnTimeout: false);
            if (condition(tier)) return tier;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the tier did not heal within {timeout}: primary {tier.Primary}, " +
                string.Join(", ", tier.Replicas.Select(r => $"{r.Name} {r.Role} healthy={r.Healthy} {r.Problem}")) + $"\nisolated host's silo:\n{silo.LogTail()}");
        }
    }
}
