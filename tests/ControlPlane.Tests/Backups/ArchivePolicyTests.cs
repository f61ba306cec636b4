using ControlPlane.Grains.Backups;
using ControlPlane.Postgres.Backups;
using Xunit;

namespace ControlPlane.Tests.Backups;

public sealed class ArchivePolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly BackupPolicy Policy = new() { Repository = "/r", RpoTarget = TimeSpan.FromSeconds(1), RtoTarget = TimeSpan.FromMinutes(5) };

    [Fact]
    public void An_archive_holding_everything_has_zero_rpo_and_is_caught_up_now()
    {
        var (caughtUp, rpo) = ArchivePolicy.Measure(new ArchiveSample(Now, 1000, 1000, null, 1), Now.AddMinutes(-5), streaming: true);
        Assert.Equal(TimeSpan.Zero, rpo);
        Assert.Equal(Now, caughtUp);
    }

    [Fact]
    public void A_streaming_archive_behind_by_in_flight_wal_reports_the_primarys_flush_lag()
    {
        var (caughtUp, rpo) = ArchivePolicy.Measure(new ArchiveSample(Now, 2000, 1500, TimeSpan.FromMilliseconds(40), 1), Now.AddSeconds(-3), streaming: true);
        Assert.Equal(TimeSpan.FromMilliseconds(40), rpo);
        Assert.Equal(Now.AddMilliseconds(-40), caughtUp);
    }

    [Fact]
    public void A_disconnected_archive_ages_from_the_last_moment_it_was_caught_up()
    {
        var (caughtUp, rpo) = ArchivePolicy.Measure(new ArchiveSample(Now, 2000, null, null, 1), Now.AddSeconds(-7), streaming: false);
        Assert.Equal(TimeSpan.FromSeconds(7), rpo);
        Assert.Equal(Now.AddSeconds(-7), caughtUp);
    }

    [Fact]
    public void An_rpo_above_target_is_an_alert_naming_both()
    {
        var archive = ArchiveStatus.None with { MeasuredAt = Now, Rpo = TimeSpan.FromSeconds(4.2) };
        Assert.Equal("RPO 4.2s above target 1s", ArchivePolicy.Alert(Policy, archive, null, null, ""));
    }

    [Fact]
    public void A_failed_drill_and_an_unusable_repository_are_alerts()
    {
        var alert = ArchivePolicy.Alert(Policy, ArchiveStatus.None, null, new DrillSummary("d3", false, null, "row counts: db.t expected 5 found 4"), "repository: /r is full");
        Assert.Equal("repository: /r is full; drill d3 failed: row counts: db.t expected 5 found 4", alert);
    }

    [Fact]
    public void A_drill_slower_than_the_rto_target_is_an_alert() =>
        Assert.Equal("drill d1 RTO 301.0s above target 300s",
            ArchivePolicy.Alert(Policy, ArchiveStatus.None, null, new DrillSummary("d1", true, TimeSpan.FromSeconds(301), ""), ""));

    [Fact]
    public void A_healthy_tier_has_no_alert()
    {
        var ok = new BackupRecord("b1", BackupState.Succeeded, Now, Now, 1, 1, 2, true);
        Assert.Equal("", ArchivePolicy.Alert(Policy, ArchiveStatus.None with { MeasuredAt = Now }, ok, new DrillSummary("d1", true, TimeSpan.FromSeconds(9), ""), ""));
    }
}
