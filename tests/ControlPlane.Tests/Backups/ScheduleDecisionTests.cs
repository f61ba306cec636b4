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
    public void A_drill_waits_for_a_restorable_backup() =>
        Assert.False(BackupPlanner.Due(Policy, Facts(restorable: false, backupAnchor: Now, drillAnchor: Now.AddDays(-7)), Now).Drill);

    [Fact]
    public void Empty_schedules_start_nothing() =>
        Assert.Equal(new ScheduledJobs(false, false), BackupPlanner.Due(Policy with { Schedule = "", DrillSchedule = "" }, Facts(drillAnchor: Now.AddDays(-7)), Now));
}
