using ControlPlane.Postgres.Health;
using ControlPlane.Grains.Capacity;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Postgres.Capacity;
using Xunit;

namespace ControlPlane.Tests.Capacity;

public sealed class CapacityAdvisorTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private static readonly CapacityOptions Options = new() { PartitionTableBytes = 1000, HeavyTenantShare = 0.5, ReadTpsPerReplica = 100, RecommendWithinDays = 30 };

    private static ReplicaCapacity Replica(string name, bool primary, double tps = 0, int connections = 5, int max = 100, long bytes = 10_000) =>
        new(name, primary, bytes, connections, max, tps, 0, 1000, null, null);

    private static CapacitySeries Series(string resource, double? days, string replica = "") =>
        new(resource, replica, 500, 1000, "a limit", TimeSpan.FromHours(1), [],
            new Forecast(ForecastMethod.Linear, Now, 500, 10, 1000, days, days / 2, days * 2, 1, 2, false, []));

    [Fact]
    public void A_resource_reaching_its_limit_within_the_window_is_to_be_raised()
    {
        var advice = CapacityAdvisor.Recommend([Series(CapacityResources.DatabaseBytes, 12), Series(CapacityResources.Connections, 90, "oltp-1")],
            [Replica("oltp-1", true)], [], [], Options);

        var raise = Assert.Single(advice);
        Assert.Equal(RecommendationKind.RaiseCapacity, raise.Kind);
        Assert.Equal(CapacityResources.DatabaseBytes, raise.Subject);
        Assert.Contains("in 12 days", raise.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Wraparound_coming_soon_asks_for_a_freeze()
    {
        var advice = CapacityAdvisor.Recommend([Series(CapacityResources.XidAge, 3)], [Replica("oltp-1", true)], [], [], Options);

        Assert.Equal(RecommendationKind.VacuumFreeze, Assert.Single(advice).Kind);
    }

    [Fact]
    public void Read_load_above_what_a_replica_should_serve_asks_for_a_standby()
    {
        var advice = CapacityAdvisor.Recommend([], [Replica("oltp-1", true, tps: 150), Replica("oltp-2", false, tps: 250)], [], [], Options);

        Assert.Equal(RecommendationKind.AddStandby, Assert.Single(advice).Kind);
    }

    [Fact]
    public void A_standby_near_max_connections_asks_for_a_standby()
    {
        var advice = CapacityAdvisor.Recommend([], [Replica("oltp-1", true), Replica("oltp-2", false, connections: 90)], [], [], Options);

        Assert.Contains("oltp-2 (90/100 connections)", Assert.Single(advice).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tenant_holding_most_of_a_shared_tier_is_to_be_moved()
    {
        var advice = CapacityAdvisor.Recommend([], [Replica("oltp-1", true, bytes: 10_000)], [],
            [new TenantCapacity("acme", 6_000, true), new TenantCapacity("globex", 1_000, true), new TenantCapacity("shared", 0, false)], Options);

        var move = Assert.Single(advice);
        Assert.Equal(RecommendationKind.MoveTenant, move.Kind);
        Assert.Equal("acme", move.Subject);
    }

    [Fact]
    public void A_lone_tenant_is_not_asked_to_move()
    {
        var advice = CapacityAdvisor.Recommend([], [Replica("oltp-1", true, bytes: 10_000)], [], [new TenantCapacity("acme", 9_000, true)], Options);

        Assert.Empty(advice);
    }

    [Fact]
    public void A_table_over_the_partitioning_threshold_is_to_be_partitioned()
    {
        var advice = CapacityAdvisor.Recommend([], [Replica("oltp-1", true)], [new CapacityTable("public", "events", 5000, 42), new CapacityTable("public", "small", 10, 1)], [], Options);

        Assert.Equal("public.events", Assert.Single(advice).Subject);
    }

    [Fact]
    public void The_cost_view_prices_every_replica_s_storage_and_compute()
    {
        var prices = new CapacityTierOptions { PricePerGbMonth = 0.1, PricePerVcpuHour = 0.05, VcpusPerReplica = 2 };
        var growing = new Forecast(ForecastMethod.Linear, Now, 10 * 1024d * 1024 * 1024, 1024d * 1024 * 1024, null, null, null, null, 0, 0, false, []);

        var cost = CapacityAdvisor.Cost(prices, 2, 10L * 1024 * 1024 * 1024, growing);

        Assert.Equal(2.0, cost.StoragePerMonth, 9);
        Assert.Equal(146.0, cost.ComputePerMonth, 9);
        Assert.Equal(148.0, cost.TotalPerMonth, 9);
        Assert.Equal(40.0, cost.StorageGbIn30Days, 9);
    }

    [Fact]
    public void Rates_come_from_two_samples_of_the_same_replica_and_skip_a_counter_reset()
    {
        static CapacityFacts Facts(int second, long transactions, long wal) =>
            new(Now.AddSeconds(second), false, 1000, 3, 100, transactions, wal, 500, [], [], new Dictionary<string, long>(), null);

        Assert.Equal(50, CapacityReadings.Tps(new ReplicaSample("oltp-1", Facts(10, 1500, 0), Facts(0, 1000, 0))));
        Assert.Null(CapacityReadings.Tps(new ReplicaSample("oltp-1", Facts(10, 10, 0), Facts(0, 1000, 0))));
        Assert.Null(CapacityReadings.Tps(new ReplicaSample("oltp-1", Facts(10, 10, 0), null)));
    }

    [Fact]
    public void Tier_wide_series_come_from_the_primary_and_carry_the_configured_size_limit()
    {
        var standby = new CapacityFacts(Now, true, 900, 1, 100, 0, 0, 400, [], [], new Dictionary<string, long>(), new DiskReading(new FilesystemSpace("/data", "/", 10_000, 4_000), new FilesystemSpace("/data/pg_wal", "/", 10_000, 4_000)));
        var primary = standby with { InRecovery = false, DatabaseBytes = 1000 };
        var readings = CapacityReadings.Of("oltp", [new ReplicaSample("oltp-2", standby, null), new ReplicaSample("oltp-1", primary, null)],
            null, 3, new CapacityTierOptions { SizeLimitBytes = 5000 }, Now);

        var size = Assert.Single(readings, r => r.Resource == CapacityResources.DatabaseBytes);
        Assert.Equal((1000d, 5000d), (size.Value, size.Limit!.Value));
        Assert.Equal(2, readings.Count(r => r.Resource == CapacityResources.DiskUsedBytes && r.Value == 6000 && r.Limit == 10_000));
        Assert.Equal(3, Assert.Single(readings, r => r.Resource == CapacityResources.Tenants).Value);
    }

    [Fact]
    public void A_short_capacity_forecast_is_a_default_alert_rule_on_a_known_metric()
    {
        var rule = Assert.Single(DefaultAlertRules.All, r => r.Name == "CapacityForecastShort");

        Assert.True(MonitoringMetrics.IsKnown(rule.Metric));
        Assert.True(rule.Breached(13.9));
        Assert.False(rule.Breached(3650));
    }

    [Fact]
    public void A_forecast_under_the_threshold_fires_once_it_has_held_for_the_rule_s_duration()
    {
        var rule = Assert.Single(DefaultAlertRules.All, r => r.Name == "CapacityForecastShort");
        var labels = new Dictionary<string, string> { ["tier"] = "oltp", ["resource"] = CapacityResources.DatabaseBytes };
        var first = AlertPolicy.Evaluate([rule], [new MetricObservation(rule.Metric, labels, 5, Now)], [], [], 0, Now);
        var later = Now + rule.For;
        var second = AlertPolicy.Evaluate([rule], [new MetricObservation(rule.Metric, labels, 4.9, later)], first.Active, [], first.LastVersion, later);

        Assert.Empty(first.Events);
        Assert.Equal(AlertPhase.Firing, Assert.Single(second.Events).Phase);
    }
}
