using ControlPlane.Grains.Backups;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Backups;

public sealed class BackupPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static BackupRecord Backup(string id, double daysAgo, BackupState state = BackupState.Succeeded, bool verified = true, ulong lsn = 0) =>
        new(id, state, Now.AddDays(-daysAgo), state == BackupState.Running ? null : Now.AddDays(-daysAgo).AddMinutes(5), 1,
            lsn == 0 ? (ulong)(1_000_000 - daysAgo * 1000) : lsn, 0, verified);

    [Fact]
    public void The_next_run_is_the_next_occurrence_after_the_last_one()
    {
        var next = BackupPlanner.NextDue("0 3 * * *", Now.AddHours(-1), Now);
        Assert.Equal(new DateTimeOffset(2026, 11, 28, 3, 0, 0, TimeSpan.Zero), next);
    }

    [Fact]
    public void A_run_missed_while_down_is_due_now_once()
    {
        var lastRun = Now.AddDays(-3);
        Assert.Equal(Now, BackupPlanner.NextDue("0 3 * * *", lastRun, Now));
    }

    [Fact]
    public void A_malformed_schedule_names_the_field_and_value()
    {
        var ex = Assert.Throws<ArgumentException>(() => BackupPlanner.ParseSchedule("schedule", "every night"));
        Assert.Contains("schedule 'every night' is not a cron schedule", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Retention_keeps_the_last_n_and_the_base_of_the_recovery_window()
    {
        var policy = new BackupPolicy { KeepLast = 2, RecoveryWindow = TimeSpan.FromDays(3) };
        var backups = new[] { Backup("b1", 10), Backup("b2", 6), Backup("b3", 4), Backup("b4", 2), Backup("b5", 1), Backup("b6", 0.5) };
        var plan = BackupPlanner.Retain(policy, backups, Now);
        Assert.Equal(["b3", "b4", "b5", "b6"], plan.Keep.Select(b => b.Id).Order());
        Assert.Equal(["b1", "b2"], plan.Delete.Select(b => b.Id).Order());
        Assert.Equal(backups.Single(b => b.Id == "b3").StartLsn, plan.WalNeededFrom);
    }

    [Fact]
    public void Failed_backups_are_deleted_and_running_ones_kept()
    {
        var plan = BackupPlanner.Retain(new BackupPolicy { KeepLast = 5, RecoveryWindow = TimeSpan.Zero },
            [Backup("ok", 1), Backup("broken", 0.5, BackupState.Failed), Backup("now", 0, BackupState.Running)], Now);
        Assert.Equal(["now", "ok"], plan.Keep.Select(b => b.Id).Order());
        Assert.Equal(["broken"], plan.Delete.Select(b => b.Id));
    }

    [Fact]
    public void The_newest_verified_backup_is_never_deleted() =>
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 10], Gen.Bool.Array[1, 12])
            .Sample((keepLast, windowDays, verified) =>
            {
                var backups = verified.Select((v, i) => Backup($"b{i}", i + 0.5, verified: v)).ToList();
                var plan = BackupPlanner.Retain(new BackupPolicy { KeepLast = keepLast, RecoveryWindow = TimeSpan.FromDays(windowDays) }, backups, Now);
                if (backups.Where(b => b.Verified).OrderByDescending(b => b.StartedAt).FirstOrDefault() is { } newest)
                    Assert.Contains(plan.Keep, b => b.Id == newest.Id);
                Assert.Equal(backups.Count, plan.Keep.Count + plan.Delete.Count);
            });
}
