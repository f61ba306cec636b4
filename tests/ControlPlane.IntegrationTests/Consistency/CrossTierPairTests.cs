using ControlPlane.IntegrationTests.Failover;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Consistency;

/// <summary>
/// A cross-tier pair on the real fleet: a tenant's orders copied into <c>olap</c> against the originals in <c>queue</c>
/// (the pair <c>xt-orders</c> configured by <see cref="SiloFixture"/>, checked with olap). Equal counts read as
/// consistent; an order the copy lacks makes olap's check inconsistent, names both values, and `cpctl consistency`
/// exits 1.
/// </summary>
[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class CrossTierPairTests(SiloFixture fixture)
{
    private ConsistencyService.ConsistencyServiceClient Consistency => new(fixture.Invoker(fixture.AdminToken));

    [Fact]
    public async Task A_pair_of_tiers_that_disagree_on_a_tenants_orders_is_reported_with_both_values_and_fails_the_check()
    {
        await ExecuteAsync("queue", """
            DROP TABLE IF EXISTS xt_orders;
            CREATE TABLE xt_orders (id bigint PRIMARY KEY, tenant text NOT NULL);
            INSERT INTO xt_orders SELECT g, CASE WHEN g % 2 = 0 THEN 'acme' ELSE 'globex' END FROM generate_series(1, 40) g;
            """);
        await ExecuteAsync("olap", """
            DROP TABLE IF EXISTS xt_orders_fact;
            CREATE TABLE xt_orders_fact (order_id bigint PRIMARY KEY, tenant text NOT NULL);
            INSERT INTO xt_orders_fact SELECT g, 'acme' FROM generate_series(2, 40, 2) g;
            """);

        var equal = await Consistency.CheckConsistencyAsync(new CheckConsistencyRequest { Tier = "olap", Tables = { "xt_orders_fact" } });
        var pair = Assert.Single(equal.Pairs);
        Assert.True(pair.Equal, $"{pair.Name}: {pair.Left} vs {pair.Right} {pair.Error}");
        Assert.Equal(("olap", "20", "queue", "20"), (pair.LeftTier, pair.Left, pair.RightTier, pair.Right));
        Assert.True(equal.Consistent, "equal pair and equal standbys read as consistent");

        // An order the copy never received.
        await ExecuteAsync("queue", "INSERT INTO xt_orders VALUES (41, 'acme')");
        var differs = await Consistency.CheckConsistencyAsync(new CheckConsistencyRequest { Tier = "olap", Tables = { "xt_orders_fact" } });
        pair = Assert.Single(differs.Pairs);
        Assert.False(pair.Equal);
        Assert.Equal(("20", "21"), (pair.Left, pair.Right));
        Assert.False(differs.Consistent);

        var stdout = new StringWriter();
        var exit = await ControlPlane.Cli.CpctlApp.RunAsync(
            ["consistency", "olap", "--tables", "xt_orders_fact", "--endpoint", fixture.Endpoint, "--token-file", fixture.AdminTokenFile], stdout, new StringWriter(), CancellationToken.None);
        Assert.Equal(1, exit);
        Assert.Contains("xt-orders", stdout.ToString(), StringComparison.Ordinal);

        // The copy catches up: the next check of the pair is clean again.
        await ExecuteAsync("olap", "INSERT INTO xt_orders_fact VALUES (41, 'acme')");
        var repaired = await Consistency.CheckConsistencyAsync(new CheckConsistencyRequest { Tier = "olap", Tables = { "xt_orders_fact" } });
        Assert.True(Assert.Single(repaired.Pairs).Equal);
    }

    private async Task ExecuteAsync(string tier, string sql)
    {
        var status = await fixture.Fleet.GetTierAsync(new GetTierRequest { Tier = tier });
        var primary = status.Replicas.Single(r => r.Name == status.Primary);
        var instance = new ChaosInstance(primary.Name, primary.Host, primary.Port, fixture.Silo.Instances.LocalFleet!.Options.SuperuserPasswordFile(tier));
        await using var connection = await instance.OpenAsync(10, 120, CancellationToken.None);
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }
}
