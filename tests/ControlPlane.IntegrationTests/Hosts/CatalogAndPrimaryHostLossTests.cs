using System.Diagnostics;
using ControlPlane.IntegrationTests.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Hosts;

/// <summary>
/// Issue 20's worst case on three simulated hosts: host-a runs the catalog primary, the tier's primary and a silo;
/// host-b the catalog's synchronous standby. host-a is lost (its silo, its tier instance and the catalog primary
/// SIGKILLed together). The surviving silos agree the catalog is gone, promote its standby, fail the tier over, and
/// accept commands again; an independent writer measures the tier's outage. When host-a returns, its silo rewinds both
/// old primaries into standbys.
/// </summary>
[Collection(CatalogOnPrimaryHostCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class CatalogAndPrimaryHostLossTests(CatalogOnPrimaryHostFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task Losing_the_host_of_the_catalog_primary_and_the_tier_primary_promotes_both_standbys_and_the_host_rejoins_as_standbys()
    {
        var lost = fixture.CatalogHost;
        var control = fixture.Through(SimulatedHostsFixture.Hosts[2]);
        var start = await control.WaitAsync(TierControl.IsConverged, TimeSpan.FromMinutes(3));
        Assert.Equal(lost.Replica, start.Primary);
        var catalogPrimary = fixture.CatalogDriver();
        var manifestPath = Path.Combine(fixture.CatalogHostDirectory, CatalogInstance.ManifestFile);
        Assert.Equal(CatalogInstance.PrimaryName, (await CatalogManifest.ReadAsync(manifestPath, CancellationToken.None))!.PrimaryName);
        output.WriteLine($"term {start.Term}: tier primary {start.Primary} and the catalog primary on {lost.Name}; catalog standby on {fixture.CatalogStandbyHost!.Name}");

        await using var writer = AckedWriter.Start(control.Failover, SimulatedHostsFixture.TierName, fixture.SuperuserPasswordFile, "catalog-host-loss-" + Guid.NewGuid().ToString("N")[..8]);
        await writer.WaitForAcksAsync(20, TimeSpan.FromSeconds(60));

        var killedAt = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        fixture.Silo(lost).Kill();
        await fixture.Driver(lost).SignalAllAsync(InstanceSignal.Kill, CancellationToken.None);
        await catalogPrimary.SignalAllAsync(InstanceSignal.Kill, CancellationToken.None);

        var failedOver = await control.WaitAsync(t => t.Term > start.Term && t.Primary != start.Primary, TimeSpan.FromMinutes(3));
        await writer.WaitForAcksAsync(20, TimeSpan.FromSeconds(60));
        var firstAck = writer.FirstAcknowledgedAfter(killedAt, notBy: start.Primary);
        Assert.NotNull(firstAck);
        output.WriteLine($"host {lost.Name} lost: tier term {failedOver.Term} primary {failedOver.Primary}; first acknowledged write after " +
            $"{(firstAck.Value - killedAt).TotalMilliseconds:0} ms (longest gap {writer.LongestGap().TotalMilliseconds:0} ms)");

        // Commands are accepted again once the catalog standby is promoted.
        var security = new SecurityService.SecurityServiceClient(Admin(SimulatedHostsFixture.Hosts[2]));
        await WaitAsync(async () =>
        {
            try
            {
                return (await security.CreateTokenAsync(new CreateTokenRequest { Name = "after-" + Guid.NewGuid().ToString("N")[..6], Role = Role.Viewer },
                    deadline: DateTime.UtcNow.AddSeconds(3))).Token.Length > 0;
            }
            catch (RpcException)
            {
                return false;
            }
        }, TimeSpan.FromMinutes(2));
        output.WriteLine($"a command accepted again {watch.Elapsed.TotalSeconds:0.0} s after the host was lost");
        var decided = (await CatalogManifest.ReadAsync(manifestPath, CancellationToken.None))!;
        Assert.Equal(CatalogStandby.Name, decided.PrimaryName);
        Assert.Equal(1, decided.Promotions);

        // The host returns: its silo rewinds the old catalog primary into the promoted one's standby, and its old tier
        // primary into a standby of the new tier primary.
        var returned = fixture.StartSilo(lost);
        var healed = await SimulatedHostsFixture.WaitHealedAsync(control, returned, t => TierControl.IsConverged(t)
            && t.Replicas.Single(r => r.Name == start.Primary).Role == ReplicaRole.Standby, TimeSpan.FromMinutes(5));
        Assert.Equal(failedOver.Term, healed.Term);
        await WaitAsync(async () => (await CatalogManifest.ReadAsync(manifestPath, CancellationToken.None))!.SynchronousDegradedSince is null, TimeSpan.FromMinutes(2), returned);
        output.WriteLine($"host {lost.Name} back: {start.Primary} streams from {healed.Primary} in term {healed.Term}; the old catalog primary is a synchronous standby again");

        var decisions = await control.DecisionsAsync();
        foreach (var d in decisions.Where(d => d.Term >= start.Term)) output.WriteLine($"  {d.Sequence} {d.Kind} term {d.Term} {d.Outcome}: {string.Join(" | ", d.Steps)}");
        Assert.Single(decisions, d => d.Term > start.Term && d.Kind == "automatic_failover");
    }

    private CallInvoker Admin(SimulatedHost host)
    {
        var token = File.ReadAllText(Path.Combine(fixture.CatalogHostDirectory, "admin.token")).Trim();
        return GrpcChannel.ForAddress($"http://{host.Address}:{fixture.Silo(host).GrpcPort}").Intercept(m =>
        {
            m.Add("authorization", "Bearer " + token);
            return m;
        });
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, SiloChild? silo = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            silo?.ThrowIfExited();
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {timeout}");
            await Task.Delay(250);
        }
    }
}
