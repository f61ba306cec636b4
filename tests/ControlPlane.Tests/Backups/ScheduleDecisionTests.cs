using ControlPlane.Grains.Backups;
using Xunit;

namespace ControlPlane.Tests.Backups;

public sealed class ScheduleDecisionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 5, 30, 0, TimeSpan.Zero); // a Sunday
    private static readonly BackupPolicy Policy = new() { Repository = "/r", Schedule = "0 3 * * *", DrillSchedule = "0 5 * * 0" };
    private static readonly DateTimeOffset Yesterday = Now.AddDays(-1);

    private static ScheduleFacts Facts(bool backupRunning = false, bool drillRunning = false, bool restorable = true, DateTimeOffset? backupAnchor = null, DateTimeOffset? drillAnchor = null) =>
        new(backupAnchor ?? Yesterday, drillAnchor ?? Now.AddHours(-1), backupRunning, drillRunning, restorable);

    [Fact]
    public void A_backup_whose_occurrence_passed_since_its_anchor_is_due() =>
        Assert.True(BackupPlanner.Due(Policy, Facts(), Now).Backup);

    [Fact]
    public void A_backup_is_never_started_while_one_runs() =>
        Assert.False(BackupPlanner.Due(Policy, Facts(backupRunning: true), Now).Backup);

    [Fact]
    public void Nothing_is_due_before_an_anchor_exists() =>
        Assert.Equal(new ScheduledJobs(false, false), BackupPlanner.Due(Policy, new ScheduleFacts(null, null, false, false, true), Now));

    [Fact]
    public void A_due_drill_waits_while_a_backup_is_due_or_runs()
    {
        var facts = Facts(drillAnchor: Now.AddDays(-7));
        Assert.Equal(new ScheduledJobs(true, false), BackupPlanner.Due(Policy, facts, Now));
        Assert.Equal(new ScheduledJobs(false, false), BackupPlanner.Due(Policy, facts with { BackupRunning = true }, Now));
        Assert.Equal(new ScheduledJobs(false, true), BackupPlanner.Due(Policy, facts with { BackupAnchor = Now }, Now));
    }

    [Fact]
    public void A_due_backup_with_nothing_to_copy_from_waits_with_the_reason_and_starts_once_a_source_is_reachable()
    {
        var waiting = BackupPlanner.Due(Policy, Facts() with { SourceMissing = "the tier has not been probed yet" }, Now);
        Assert.False(waiting.Backup);
        Assert.Equal("the tier has not been probed yet", waiting.BackupWaiting);
        // The anchor did not move (the grain only moves it when a run starts): still due at the next tick.
        Assert.Equal(new ScheduledJobs(true, false), BackupPlanner.Due(Policy, Facts(), Now.AddSeconds(5)));
    }

    [Fact]
    public void A_missing_source_makes_nothing_wait_when_no_backup_is_due()
    {
        var jobs = BackupPlanner.Due(Policy, Facts(backupAnchor: Now) with { SourceMissing = "no reachable replica" }, Now);
        Assert.False(jobs.Backup);
        Assert.Equal("", jobs.BackupWaiting);
    }

    [Fact]
    public void A_drill_does_not_jump_ahead_of_a_backup_that_waits_for_a_source() =>
        Assert.False(BackupPlanner.Due(Policy, Facts(drillAnchor: Now.AddDays(-7)) with { SourceMissing = "no reachable replica" }, Now).Drill);

    [Fact]
    public void A_drill_waits_for_a_restorable_backup() =>
        Assert.False(BackupPlanner.Due(Policy, Facts(restorable: false, backupAnchor: Now, drillAnchor: Now.AddDays(-7)), Now).Drill);

    [Fact]
    public void Empty_schedules_start_nothing() =>
        Assert.Equal(new ScheduledJobs(false, false), BackupPlanner.Due(Policy with { Schedule = "", DrillSchedule = "" }, Facts(drillAnchor: Now.AddDays(-7)), Now));
}
