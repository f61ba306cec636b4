using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Xunit;

namespace ControlPlane.IntegrationTests.Fleet;

[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class FleetGatewayTests(SiloFixture fixture)
{
    private static readonly string[] TierNames = ["oltp", "content", "queue", "olap"];

    [Fact]
    public async Task The_local_fleet_has_four_healthy_tiers_each_a_primary_and_a_streaming_standby()
    {
        var fleet = await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        Assert.Equal("local", fleet.Environment);
        Assert.Equal(TierNames, fleet.Tiers.Select(t => t.Name));
        foreach (var tier in fleet.Tiers)
        {
            Assert.Equal($"{tier.Name}-1", tier.Primary);
            Assert.True(tier.Term >= 1);
            Assert.True(tier.Version >= 1);
            Assert.Equal(2, tier.Replicas.Count);
            var primary = tier.Replicas.Single(r => r.Name == tier.Primary);
            var standby = tier.Replicas.Single(r => r.Name != tier.Primary);
            Assert.Equal(ReplicaRole.Primary, primary.Role);
            Assert.Equal(ReplicaRole.Standby, standby.Role);
            Assert.Equal("streaming", standby.WalReceiverStatus);
            Assert.Equal("127.0.0.1", primary.Host);
            Assert.True(primary.MaxConnections > 0);
            Assert.NotNull(primary.LastProbeAt);
            Assert.StartsWith("15", primary.ServerVersion, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task GetReplica_answers_one_replica_of_a_tier()
    {
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        var replica = await fixture.Fleet.GetReplicaAsync(new GetReplicaRequest { Tier = "queue", Replica = "queue-2" });
        Assert.Equal("queue", replica.Tier);
        Assert.Equal(ReplicaRole.Standby, replica.Role);
        Assert.True(replica.Healthy);
        Assert.NotEmpty(replica.ReplayLsn);
    }

    [Fact]
    public async Task An_unknown_tier_is_not_found_and_the_message_names_it()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => fixture.Fleet.GetTierAsync(new GetTierRequest { Tier = "billing" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Contains("'billing'", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("oltp", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_replica_is_not_found_and_the_message_names_it()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            fixture.Fleet.GetReplicaAsync(new GetReplicaRequest { Tier = "oltp", Replica = "oltp-7" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, ex.StatusCode);
        Assert.Contains("'oltp-7'", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "tier is required")]
    [InlineData("OLTP", "tier 'OLTP' is invalid")]
    [InlineData("oltp/../x", "tier 'oltp/../x' is invalid")]
    public async Task A_malformed_tier_name_is_an_invalid_argument_naming_the_field(string tier, string expected)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => fixture.Fleet.GetTierAsync(new GetTierRequest { Tier = tier }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(expected, ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_environment_is_an_invalid_argument()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            fixture.Fleet.ListTiersAsync(new ListTiersRequest { Environment = "Prod Env" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("environment 'Prod Env' is invalid", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_environment_without_tiers_lists_none()
    {
        var response = await fixture.Fleet.ListTiersAsync(new ListTiersRequest { Environment = "staging" });
        Assert.Equal("staging", response.Environment);
        Assert.Empty(response.Tiers);
    }

    [Fact]
    public async Task WatchTier_sends_a_snapshot_then_the_change_when_a_standby_stops_and_heals_when_it_returns()
    {
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        var standby = fixture.Silo.Instances.LocalFleet!.Driver("olap", "olap-2");
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var call = fixture.Fleet.WatchTier(new WatchTierRequest { Tier = "olap" }, cancellationToken: cts.Token);

        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        var snapshot = call.ResponseStream.Current;
        Assert.Equal(TierEventKind.Snapshot, snapshot.Kind);
        Assert.Equal(TierHealth.Healthy, snapshot.Tier.Health);
        var version = snapshot.Version;

        await standby.StopAsync(StopMode.Fast, cts.Token);
        try
        {
            TierEvent? degraded = null;
            while (degraded is null && await call.ResponseStream.MoveNext(cts.Token))
            {
                var e = call.ResponseStream.Current;
                Assert.True(e.Version > version, $"version {e.Version} after {version}");
                if (e.Kind == TierEventKind.Change) Assert.Equal(version + 1, e.Version);
                version = e.Version;
                if (e.Tier.Health == TierHealth.Degraded) degraded = e;
            }
            Assert.NotNull(degraded);
            Assert.Contains(degraded!.Changes, c => c.Contains("Healthy -> Degraded", StringComparison.Ordinal));
            var replica = degraded.Tier.Replicas.Single(r => r.Name == "olap-2");
            Assert.False(replica.Healthy);
            Assert.False(replica.Reachable);
        }
        finally
        {
            await standby.StartAsync(CancellationToken.None);
        }

        var healed = await fixture.WaitForTierAsync("olap", t => t.Health == TierHealth.Healthy, TimeSpan.FromMinutes(1));
        Assert.True(healed.Version > version);
    }

    [Fact]
    public async Task WatchFleet_starts_with_a_snapshot_of_every_tier()
    {
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var call = fixture.Fleet.WatchFleet(new WatchFleetRequest(), cancellationToken: cts.Token);
        var seen = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            Assert.True(await call.ResponseStream.MoveNext(cts.Token));
            Assert.Equal(TierEventKind.Snapshot, call.ResponseStream.Current.Kind);
            seen.Add(call.ResponseStream.Current.TierName);
        }
        Assert.Equal(TierNames.Order(), seen.Order());
    }

    [Fact]
    public async Task Health_checking_answers_serving()
    {
        var health = new Health.HealthClient(fixture.Channel);
        var response = await health.CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Metrics_endpoint_exports_replica_and_tier_gauges()
    {
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        using var http = new HttpClient();
        string body = "";
        for (var i = 0; i < 20 && !body.Contains("controlplane_tier_health", StringComparison.Ordinal); i++)
        {
            body = await http.GetStringAsync(fixture.Silo.MetricsEndpoint);
            await Task.Delay(500);
        }
        Assert.Contains("controlplane_replica_up", body, StringComparison.Ordinal);
        Assert.Contains("controlplane_tier_health", body, StringComparison.Ordinal);
        Assert.Contains("tier=\"oltp\"", body, StringComparison.Ordinal);
    }
}
