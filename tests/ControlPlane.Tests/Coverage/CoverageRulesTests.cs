using ControlPlane.Grains.Coverage;
using ControlPlane.Grains.Monitoring;
using Xunit;
using static ControlPlane.Tests.Coverage.CoverageFactsBuilder;

namespace ControlPlane.Tests.Coverage;

/// <summary>What coverage says of a whole tier, and how it is counted.</summary>
public sealed class CoverageRulesTests
{
    [Fact]
    public void Every_tier_reports_the_eleven_areas_in_the_review_order()
    {
        var tier = CoverageRules.Evaluate(Healthy(), new CoverageThresholds());
        Assert.Equal(CoverageAreas.All.Select(a => a.Id), tier.Areas.Select(a => a.Area.Id));
        Assert.Equal(11, tier.Areas.Count);
    }

    [Fact]
    public void A_well_run_tier_covers_every_area_that_exists_and_has_no_failing_or_stale_item()
    {
        var tier = CoverageRules.Evaluate(Healthy(), new CoverageThresholds());
        Assert.All(tier.Areas.SelectMany(a => a.Items), i => Assert.True(i.Covered || i.State == EvidenceState.NotAvailable, $"{i.Id}: {i.State} {i.Reason}"));
        Assert.All(new[] { CoverageAreas.ConnectionPooling, CoverageAreas.BackupRecovery, CoverageAreas.HighAvailability, CoverageAreas.SecurityHardening,
            CoverageAreas.PerformanceMonitoring, CoverageAreas.Migrations, CoverageAreas.ChangeManagement }, area => Assert.Equal(100, tier.Areas.Single(a => a.Area == area).Percent));
    }

    [Fact]
    public void Areas_whose_facts_were_not_gathered_report_not_available_and_count_as_zero()
    {
        var tier = CoverageRules.Evaluate(Healthy() with { Capacity = null, Integration = null }, new CoverageThresholds());
        foreach (var area in new[] { CoverageAreas.CapacityPlanning, CoverageAreas.IntegrationTesting })
        {
            var row = tier.Areas.Single(a => a.Area == area);
            Assert.False(row.Available);
            Assert.Equal(0, row.Percent);
            Assert.All(row.Items, i => Assert.Equal(EvidenceState.NotAvailable, i.State));
        }
    }

    [Fact]
    public void Area_percent_is_the_share_of_configured_and_passing_items()
    {
        var facts = Healthy() with { Backups = Healthy().Backups with { LastDrill = null } };
        var area = Area(facts, CoverageAreas.BackupRecovery);
        Assert.Equal(4, area.Items.Count);
        Assert.Equal(75, area.Percent);
        Assert.Equal(1, area.Stale);
    }

    [Fact]
    public void Overall_is_the_mean_of_the_eleven_areas_over_the_tiers()
    {
        var report = CoverageRules.Evaluate("local", Now, [Healthy(), Healthy() with { Tier = "olap" }], new CoverageThresholds());
        Assert.Equal(11, report.Areas.Count);
        Assert.Equal(Math.Round(report.Areas.Average(a => a.Percent), 1), report.Percent);
        Assert.True(report.Percent < 100);
    }

    [Fact]
    public void Readings_report_failing_items_per_tier_and_area_including_zero()
    {
        var failing = Healthy() with { Ha = Healthy().Ha with { Paused = true } };
        var report = CoverageRules.Evaluate("local", Now, [failing], new CoverageThresholds());
        var readings = CoverageReadings.Of(report);
        Assert.Equal(11, readings.Count);
        Assert.All(readings, r => Assert.Equal(MonitoringMetrics.CoverageFailingItems, r.Metric));
        Assert.Equal(1, readings.Single(r => r.Labels["area"] == "high_availability").Value);
        Assert.Equal(0, readings.Single(r => r.Labels["area"] == "backup_recovery").Value);
        Assert.Equal("oltp", readings[0].Labels["tier"]);
    }

    [Fact]
    public void The_degraded_area_alert_fires_on_a_failing_item_and_resolves_when_it_passes()
    {
        var rule = DefaultAlertRules.All.Single(r => r.Name == "CoverageAreaDegraded");
        Assert.Empty(AlertRuleValidation.Validate(rule));
        var failed = CoverageReadings.Of(CoverageRules.Evaluate("local", Now,
            [Healthy() with { Backups = Healthy().Backups with { LastDrill = new DrillFact("d4", Now, false, null, "row counts differ") } }], new CoverageThresholds()));
        var fired = AlertPolicy.Evaluate([rule], failed, [], [], 0, Now);
        var alert = Assert.Single(fired.Events);
        Assert.Equal(AlertPhase.Firing, alert.Phase);
        Assert.Equal("backup_recovery", alert.Key.Label("area"));

        var fixedReadings = CoverageReadings.Of(CoverageRules.Evaluate("local", Now.AddMinutes(5), [Healthy()], new CoverageThresholds()));
        var resolved = AlertPolicy.Evaluate([rule], fixedReadings, fired.Active, [], fired.LastVersion, Now.AddMinutes(5));
        Assert.Equal(AlertPhase.Resolved, Assert.Single(resolved.Events).Phase);
        Assert.Empty(resolved.Active);
    }

    [Theory]
    [InlineData("0 3 * * *", 26)]
    [InlineData("0 */6 * * *", 8)]
    [InlineData("", 99)]
    [InlineData("not a cron", 99)]
    public void A_schedules_max_age_is_its_period_plus_slack(string cron, int hours)
    {
        Assert.Equal(TimeSpan.FromHours(hours), SchedulePeriod.MaxAge(cron, Now, TimeSpan.FromHours(99)));
    }
}
