using ControlPlane.Grains.Consistency;
using ControlPlane.Grains.Monitoring;
using Xunit;

namespace ControlPlane.Tests.Consistency;

public sealed class ConsistencyAlertsTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.Parse("2026-12-06T20:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void A_mismatch_is_a_reading_naming_the_table_the_standby_and_the_key_ranges()
    {
        var report = Report(Table("public.orders", new ConsistencyMismatch("oltp-2", "[40, 41)", 40, 41, 1, 1)));

        var (readings, breached) = ConsistencyAlerts.Readings(report, [], Now);

        var reading = Assert.Single(readings);
        Assert.Equal(MonitoringMetrics.ConsistencyMismatchedRanges, reading.Metric);
        Assert.Equal(1, reading.Value);
        Assert.Equal("public.orders", reading.Labels["table"]);
        Assert.Equal("oltp-2", reading.Labels["replica"]);
        Assert.Equal("[40, 41)", reading.Labels["ranges"]);
        Assert.Single(breached);
        Assert.Contains(DefaultAlertRules.All, r => r.Metric == reading.Metric && r.Severity == AlertSeverity.Critical && r.Breached(reading.Value));
    }

    [Fact]
    public void A_table_that_compares_equal_again_resolves_its_alert_with_a_zero_reading()
    {
        var first = ConsistencyAlerts.Readings(Report(Table("public.orders", new ConsistencyMismatch("oltp-2", "[40, 41)", 40, 41, 1, 1))), [], Now);

        var (readings, breached) = ConsistencyAlerts.Readings(Report(Table("public.orders")), first.Breached, Now);

        var reading = Assert.Single(readings);
        Assert.Equal(0, reading.Value);
        Assert.Equal("[40, 41)", reading.Labels["ranges"]);
        Assert.Empty(breached);
    }

    [Fact]
    public void A_check_of_other_tables_leaves_an_alert_standing()
    {
        var first = ConsistencyAlerts.Readings(Report(Table("public.orders", new ConsistencyMismatch("oltp-2", "[1, 2)", 1, 2, 1, 1))), [], Now);

        var (readings, breached) = ConsistencyAlerts.Readings(Report(Table("public.items")), first.Breached, Now);

        Assert.Empty(readings);
        Assert.Single(breached);
    }

    [Fact]
    public void Many_ranges_are_listed_up_to_five_then_counted()
    {
        Assert.Equal("a b c d e and 2 more", ConsistencyAlerts.RangesLabel(["a", "b", "c", "d", "e", "f", "g"]));
    }

    private static TableConsistency Table(string name, params ConsistencyMismatch[] mismatches) =>
        new(name, ConsistencyTableMode.KeyRanges, 1, new ReplicaTableDigest("oltp-1", 10, "00"), [new ReplicaTableDigest("oltp-2", 10, "00")], mismatches, "");

    private static ConsistencyReport Report(params TableConsistency[] tables) =>
        new("local", "oltp", Now, TimeSpan.FromSeconds(1), "oltp-1", "0/1000", [new StandbyConsistency("oltp-2", "0/1000", "")], tables, [], 20, false);
}
