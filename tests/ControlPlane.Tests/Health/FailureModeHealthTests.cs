using ControlPlane.Grains.Health;
using ControlPlane.Grains.Monitoring;
using Xunit;
using static ControlPlane.Tests.Health.TierHealthPolicyTests;

namespace ControlPlane.Tests.Health;

/// <summary>How a full disk and a crash loop show on a replica: its health verdict and the alert engine's readings.</summary>
public sealed class FailureModeHealthTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static TierView Evaluate(params ReplicaHealth[] reports)
    {
        var spec = new TierSpec("local", "oltp", "oltp-1",
            reports.Select((r, i) => new ReplicaSpec("local", "oltp", r.Name, "127.0.0.1", 5432 + i, "postgres", "postgres", "/secret", null)).ToList());
        return TierHealthPolicy.Evaluate(spec, "oltp-1", 1, reports.ToDictionary(r => r.Name), Now, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public void A_primary_whose_writes_fail_for_a_full_disk_is_not_healthy_and_says_why()
    {
        var view = Evaluate(Primary("oltp-1") with { DiskFullFailures = 1, DiskWriteError = "53100: could not extend file", DiskAvailableBytes = 0 }, Standby("oltp-2"));
        Assert.Equal(TierHealth.Down, view.Health);
        Assert.StartsWith("disk full: writes fail (53100: could not extend file); 0 bytes available", view.Replicas[0].Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_primary_low_on_space_whose_writes_still_succeed_stays_healthy()
    {
        var view = Evaluate(Primary("oltp-1") with { DiskAvailableBytes = 1024 }, Standby("oltp-2"));
        Assert.True(view.Replicas[0].Healthy);
    }

    [Fact]
    public void A_standby_with_less_than_one_wal_segment_left_is_unhealthy_and_never_promoted()
    {
        var view = Evaluate(Primary("oltp-1"), Standby("oltp-2") with { DiskAvailableBytes = 8L * 1024 * 1024 });
        Assert.Equal(TierHealth.Degraded, view.Health);
        Assert.Equal("disk full: 8388608 bytes available; never promoted", view.Replicas[1].Problem);
    }

    [Fact]
    public void The_readings_say_disk_full_and_count_crash_restarts_of_the_last_five_minutes()
    {
        var health = Primary("oltp-1") with
        {
            DiskAvailableBytes = 4096,
            CrashRestarts = [Now.AddMinutes(-20), Now.AddMinutes(-4), Now.AddMinutes(-1), Now],
        };
        var readings = FailureModeReadings.Of("local", "oltp", "oltp-1", health, Now).ToDictionary(r => r.Metric);
        Assert.Equal(1, readings[MonitoringMetrics.ReplicaDiskFull].Value);
        Assert.Equal(4096, readings[MonitoringMetrics.ReplicaDiskAvailableBytes].Value);
        Assert.Equal(3, readings[MonitoringMetrics.ReplicaCrashRestarts].Value);
        Assert.Equal("oltp-1", readings[MonitoringMetrics.ReplicaDiskFull].Labels["replica"]);
    }

    [Fact]
    public void The_default_rules_fire_on_a_full_disk_and_on_three_crash_restarts()
    {
        var disk = Assert.Single(DefaultAlertRules.All, r => r.Name == "ReplicaDiskFull");
        var crash = Assert.Single(DefaultAlertRules.All, r => r.Name == "ReplicaCrashLoop");
        Assert.True(disk.Breached(1));
        Assert.False(disk.Breached(0));
        Assert.True(crash.Breached(3));
        Assert.False(crash.Breached(2));
        Assert.Equal(AlertSeverity.Critical, disk.Severity);
    }

    [Fact]
    public void Without_a_host_reading_there_is_no_free_space_reading_and_no_disk_full()
    {
        var readings = FailureModeReadings.Of("local", "oltp", "oltp-1", Primary("oltp-1"), Now);
        Assert.DoesNotContain(readings, r => r.Metric == MonitoringMetrics.ReplicaDiskAvailableBytes);
        Assert.Equal(0, readings.Single(r => r.Metric == MonitoringMetrics.ReplicaDiskFull).Value);
    }
}
