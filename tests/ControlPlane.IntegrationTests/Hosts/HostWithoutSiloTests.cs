using ControlPlane.IntegrationTests.Failover;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Hosts;

/// <summary>
/// A host whose silo is gone while its PostgreSQL runs on: the replica is observed over SQL from another silo (the
/// primary stays primary, nothing fails over), and what needs the host is refused naming the operation and the host.
/// </summary>
[Collection(SimulatedHostsCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class HostWithoutSiloTests(SimulatedHostsFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Without_its_hosts_silo_a_primary_is_kept_over_sql_and_a_switchover_is_refused_naming_the_host()
    {
        var start = await fixture.Through(SimulatedHostsFixture.Hosts[2]).WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(5));
        var home = SimulatedHostsFixture.Hosts.Single(h => h.Replica == start.Primary);
        var control = fixture.Through(SimulatedHostsFixture.Hosts.First(h => h != home));
        fixture.Silo(home).Kill();
        output.WriteLine($"killed the silo of {home.Name}; {start.Primary} keeps running there");

        // Until the cluster declares the silo dead, calls to grains it held fail; then the replica activates elsewhere.
        Operation? refused = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (refused is null)
        {
            try
            {
                var op = await control.Failover.SwitchoverAsync(new SwitchoverRequest { Tier = SimulatedHostsFixture.TierName },
                    deadline: DateTime.UtcNow.AddSeconds(30));
                var done = await control.WaitOperationAsync(op.Id, TimeSpan.FromMinutes(1));
                output.WriteLine($"switchover {done.State}: {done.Error}");
                if (done.Error.Contains("needs the silo of host", StringComparison.Ordinal)) refused = done;
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.FailedPrecondition)
            {
                output.WriteLine($"switchover: {ex.Status}");
            }
            if (refused is null && DateTime.UtcNow > deadline) throw new TimeoutException("no switchover was refused for want of the host's silo");
            if (refused is null) await Task.Delay(1000);
        }

        Assert.Equal(OperationState.Failed, refused.State);
        Assert.Contains($"replica {SimulatedHostsFixture.TierName}/{start.Primary} needs the silo of host '{home.Name}'", refused.Error, StringComparison.Ordinal);
        var now = await control.WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(1));
        Assert.Equal(start.Term, now.Term);
        Assert.Equal(start.Primary, now.Primary);

        fixture.StartSilo(home);
        await control.WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(3));
    }
}
