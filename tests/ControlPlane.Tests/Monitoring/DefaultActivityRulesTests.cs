using ControlPlane.Grains.Backups;
using ControlPlane.Grains.Capacity;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Grains.Pools;
using Xunit;

namespace ControlPlane.Tests.Monitoring;

/// <summary>
/// The default rules over activity, disk, backups, pools and tenant isolation: each reads a metric its source really
/// reports, and fires on the reading that source gives for the condition (and not on the healthy one).
/// </summary>
public sealed class DefaultActivityRulesTests
{
    private static readonly DateTimeOffset T0 = AlertPolicyTests.T0;
    private static readonly Dictionary<string, string> Tier = new() { ["environment"] = "local", ["tier"] = "oltp" };

    private static AlertRule RuleNamed(string name) => Assert.Single(DefaultAlertRules.All, r => r.Name == name);

    /// <summary>The rule's alerts after the same reading has held for longer than its for duration.</summary>
    private static IReadOnlyList<ActiveAlert> Held(AlertRule rule, IReadOnlyList<MetricObservation> readings)
    {
        var first = AlertPolicy.Evaluate([rule], readings, [], [], 0, T0);
        var later = readings.Select(r => r with { At = r.At + rule.For }).ToList();
        return AlertPolicy.Evaluate([rule], later, first.Active, [], first.LastVersion, T0 + rule.For).Active;
    }

    private static void Fires(string name, IReadOnlyList<MetricObservation> readings) =>
        Assert.Contains(Held(RuleNamed(name), readings), a => a.Phase == AlertPhase.Firing);

    private static void Quiet(string name, IReadOnlyList<MetricObservation> readings) => Assert.Empty(Held(RuleNamed(name), readings));

    private static MetricObservation Reading(string metric, double value) => new(metric, Tier, value, T0);

    [Theory]
    [InlineData("TempSpillHeavy", MonitoringMetrics.TempBytesPerSecond, 50e6, 1e6)]
    [InlineData("CheckpointsMostlyRequested", MonitoringMetrics.CheckpointsRequestedRatio, 0.9, 0.1)]
    [InlineData("TableBloatHigh", MonitoringMetrics.TableBloatBytes, 20e9, 1e9)]
    [InlineData("IndexBloatHigh", MonitoringMetrics.IndexBloatBytes, 8e9, 1e9)]
    [InlineData("PartitionDefaultHasRows", MonitoringMetrics.PartitionDefaultRows, 3, 0)]
    [InlineData("DataDirectorySpaceLow", MonitoringMetrics.DataDirectoryFreeRatio, 0.05, 0.3)]
    [InlineData("PartitionRangeEndingSoon", MonitoringMetrics.PartitionRangeDaysLeft, 2.5, 30)]
    [InlineData("PartitionRangeEndingSoon", MonitoringMetrics.PartitionRangeDaysLeft, -1, 7)]
    public void An_activity_rule_fires_on_its_condition_and_stays_quiet_without_it(string rule, string metric, double bad, double good)
    {
        Fires(rule, [Reading(metric, bad)]);
        Quiet(rule, [Reading(metric, good)]);
    }

    [Fact]
    public void Every_new_rule_names_a_known_metric_and_links_its_runbook_section()
    {
        Assert.All(DefaultAlertRules.All, r => Assert.True(MonitoringMetrics.IsKnown(r.Metric), r.Name));
        Assert.Equal(DefaultAlertRules.All.Count, DefaultAlertRules.All.Select(r => r.Name).Distinct().Count());
        Assert.All(DefaultAlertRules.All.Where(r => r.Name.StartsWith("Backup", StringComparison.Ordinal)),
            r => Assert.Equal("docs/monitoring.md#" + r.Name.ToLowerInvariant(), r.Runbook));
    }

    private static readonly BackupPolicy Policy = new() { ArchiveWal = false, RtoTarget = TimeSpan.FromMinutes(5) };

    private static IReadOnlyList<MetricObservation> Backups(IReadOnlyList<BackupRecord> backups, IReadOnlyList<DrillRecord> drills, string repositoryProblem = "") =>
        BackupReadings.Of(Tier, Policy, ArchiveStatus.None, backups, drills, repositoryProblem, T0);

    private static BackupRecord Backup(string id, BackupState state, int hoursAgo) => new(id, state, T0.AddHours(-hoursAgo - 1), T0.AddHours(-hoursAgo), 1, 1, 2, true);

    private static DrillRecord Drill(string id, bool passed, double daysAgo, int rtoSeconds = 60) =>
        new(id, "b1", T0.AddDays(-daysAgo).AddMinutes(-5), T0.AddDays(-daysAgo), passed, passed ? TimeSpan.FromSeconds(rtoSeconds) : null, [], passed ? "" : "counts differ", "test");

    [Fact]
    public void A_failed_newest_backup_fires_BackupFailed_and_a_later_success_resolves_it()
    {
        Fires("BackupFailed", Backups([Backup("b1", BackupState.Succeeded, 5), Backup("b2", BackupState.Failed, 1)], []));
        Quiet("BackupFailed", Backups([Backup("b2", BackupState.Failed, 5), Backup("b3", BackupState.Succeeded, 1)], []));
    }

    [Fact]
    public void A_failed_newest_drill_fires_BackupDrillFailed()
    {
        Fires("BackupDrillFailed", Backups([], [Drill("d1", true, 3), Drill("d2", false, 1)]));
        Quiet("BackupDrillFailed", Backups([], [Drill("d1", false, 3), Drill("d2", true, 1)]));
    }

    [Fact]
    public void A_drill_that_has_not_passed_for_eight_days_is_stale()
    {
        Fires("BackupDrillStale", Backups([], [Drill("d1", true, 9), Drill("d2", false, 1)]));
        Quiet("BackupDrillStale", Backups([], [Drill("d1", true, 2)]));
        Assert.DoesNotContain(Backups([], []), r => r.Metric == MonitoringMetrics.BackupDrillAgeSeconds);
    }

    [Fact]
    public void A_drill_slower_than_the_rto_target_fires_BackupDrillRtoOverTarget()
    {
        Fires("BackupDrillRtoOverTarget", Backups([], [Drill("d1", true, 1, rtoSeconds: 600)]));
        Quiet("BackupDrillRtoOverTarget", Backups([], [Drill("d1", true, 1, rtoSeconds: 60)]));
    }

    [Fact]
    public void An_unwritable_repository_fires_BackupRepositoryUnavailable()
    {
        Fires("BackupRepositoryUnavailable", Backups([], [], "repository /backups is full (10 MiB free)"));
        Quiet("BackupRepositoryUnavailable", Backups([], []));
    }

    private static PoolBudget Budget(int overruns, int leaks) => new("local", "oltp", 40, 40, 2,
        [new TenantBudget("acme", 10, 4, 2, 1, overruns, leaks, 1, 6, null)], [], "oltp-1", T0, new PoolSettings(), 100);

    [Fact]
    public void Pool_overruns_and_leak_suspects_fire_the_rules_that_replace_the_pools_text_alert()
    {
        Fires("PoolLeaseOverrun", PoolReadings.Of(Budget(1, 0), T0));
        Quiet("PoolLeaseOverrun", PoolReadings.Of(Budget(0, 0), T0));
        Fires("PoolLeakSuspect", PoolReadings.Of(Budget(0, 2), T0));
        Quiet("PoolLeakSuspect", PoolReadings.Of(Budget(0, 0), T0));
        Assert.Equal(0.25, PoolReadings.Of(Budget(0, 0), T0).Single(r => r.Metric == MonitoringMetrics.PoolGrantedRatio).Value);
        Assert.Empty(PoolReadings.Of(Budget(1, 1) with { SampledAt = null }, T0));
    }

    [Fact]
    public void The_longest_open_wait_of_any_tenant_fires_PoolOpenWaitHigh()
    {
        PoolBudget Waits(params double[] maxima) => Budget(0, 0) with
        {
            Tenants = [.. maxima.Select((max, i) => new TenantBudget($"t{i}", 5, 1, 0, 0, 0, 0, 1, 1, null, max, max / 2))],
        };
        var reading = PoolReadings.Of(Waits(0.2, 3.5, 0), T0).Single(r => r.Metric == MonitoringMetrics.PoolOpenWaitSeconds);
        Assert.Equal(3.5, reading.Value);
        Fires("PoolOpenWaitHigh", PoolReadings.Of(Waits(0.2, 3.5), T0));
        Quiet("PoolOpenWaitHigh", PoolReadings.Of(Waits(0.2, 0.9), T0));
        Assert.Equal(0, PoolReadings.Of(Waits(), T0).Single(r => r.Metric == MonitoringMetrics.PoolOpenWaitSeconds).Value);
    }

    [Fact]
    public void A_replica_whose_disk_is_nearly_full_fires_DataDirectorySpaceLow_with_its_name()
    {
        ReplicaCapacity Replica(string name, long? total, long? free) => new(name, false, 0, 0, 0, 0, 0, 0, total, free, "");
        var readings = DiskReadings.Of("local", "oltp", [Replica("oltp-1", 1000, 50), Replica("oltp-2", 1000, 500), Replica("oltp-3", null, null)], T0).ToList();
        Assert.Equal(2, readings.Count);
        var alert = Assert.Single(Held(RuleNamed("DataDirectorySpaceLow"), readings));
        Assert.Equal("oltp-1", alert.Key.Labels["replica"]);
    }

    [Fact]
    public void An_isolation_leak_fires_TenantIsolationLeak()
    {
        var labels = new Dictionary<string, string>(Tier) { ["tenant"] = "acme" };
        Fires("TenantIsolationLeak", [new(MonitoringMetrics.TenantIsolationLeaks, labels, 1, T0)]);
        Quiet("TenantIsolationLeak", [new(MonitoringMetrics.TenantIsolationLeaks, labels, 0, T0)]);
    }
}
