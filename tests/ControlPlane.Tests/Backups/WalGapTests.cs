using ControlPlane.Grains.Backups;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Health;
using Xunit;

namespace ControlPlane.Tests.Backups;

public sealed class WalGapTests
{
    private const long Segment = WalSegments.DefaultSegmentBytes;
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly SourceTimeline OnTimeline3 = new(3, new Lsn(0x0A00_0000), [new(1, new Lsn(0x0300_0100)), new(2, new Lsn(0x0600_0200))]);

    [Theory]
    [InlineData("pg_receivewal exited with 1: ERROR:  requested WAL segment 000000010000000000000003 has already been removed", true)]
    [InlineData("pg_receivewal exited with 1: ERROR:  cannot read from a replication slot that has been invalidated", true)]
    [InlineData("pg_receivewal exited with 1: could not connect to server: Connection refused", false)]
    [InlineData(null, false)]
    public void Only_the_servers_word_that_wal_is_gone_counts_as_removed_wal(string? failure, bool removed) =>
        Assert.Equal(removed, WalGaps.IsRemovedWal(failure));

    [Fact]
    public void The_gap_runs_from_the_start_of_the_newest_partial_to_the_segment_holding_the_oldest_wal_the_server_keeps()
    {
        var plan = WalGaps.Plan(["000000030000000000000006", "000000030000000000000007.partial", "00000003.history"], OnTimeline3, "oltp-2",
            new Lsn(0x0900_0028), T0.AddMinutes(-3), T0, Segment)!;

        Assert.Equal(new WalGap(3, 0x0700_0000, 0x0900_0000, T0.AddMinutes(-3), T0, "oltp-2"), plan.Gap);
        Assert.Equal("000000030000000000000009.partial", plan.ResumeMarker);
    }

    [Fact]
    public void After_a_complete_segment_the_gap_starts_at_the_next_one()
    {
        var plan = WalGaps.Plan(["000000030000000000000006"], OnTimeline3, "oltp-2", new Lsn(0x0900_0028), T0, T0, Segment)!;
        Assert.Equal(0x0700_0000UL, plan.Gap.FromLsn);
    }

    [Fact]
    public void The_resume_marker_is_named_on_the_timeline_the_oldest_kept_wal_lies_on()
    {
        // 0/5000028 lies on timeline 2 (timeline 1 ended at 0/3000100, timeline 2 at 0/6000200).
        var plan = WalGaps.Plan(["000000010000000000000002"], OnTimeline3, "oltp-2", new Lsn(0x0500_0028), T0, T0, Segment)!;
        Assert.Equal("000000020000000000000005.partial", plan.ResumeMarker);
        Assert.Equal(2, plan.Gap.Timeline);
        Assert.Equal(1, WalGaps.TimelineOf(OnTimeline3, new Lsn(0x0300_00FF)));
        Assert.Equal(2, WalGaps.TimelineOf(OnTimeline3, new Lsn(0x0300_0100)));
        Assert.Equal(3, WalGaps.TimelineOf(OnTimeline3, new Lsn(0x0600_0200)));
    }

    [Fact]
    public void No_gap_when_the_archive_already_reaches_the_oldest_kept_wal_or_holds_nothing()
    {
        Assert.Null(WalGaps.Plan(["000000030000000000000009.partial"], OnTimeline3, "oltp-2", new Lsn(0x0900_0028), T0, T0, Segment));
        Assert.Null(WalGaps.Plan(["000000030000000000000008"], OnTimeline3, "oltp-2", new Lsn(0x0900_0028), T0, T0, Segment));
        Assert.Null(WalGaps.Plan(["00000003.history", "not-wal"], OnTimeline3, "oltp-2", new Lsn(0x0900_0028), T0, T0, Segment));
    }

    [Fact]
    public void An_unreadable_gap_record_is_an_error_naming_the_file_never_read_as_no_gaps()
    {
        var root = Path.Combine(Path.GetTempPath(), "cp-gaplog-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var repository = new TierRepository(root, "local", "oltp");
            Assert.Empty(WalGapLog.Read(repository));
            Directory.CreateDirectory(repository.TierDirectory);
            File.WriteAllText(WalGapLog.PathOf(repository), "[{\"Timeline\": 1, ");
            var error = Assert.Throws<InvalidDataException>(() => WalGapLog.Read(repository));
            Assert.Contains(WalGapLog.PathOf(repository), error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static WalGapRecord Gap(ulong from, ulong to, int minutesAfterT0) =>
        new(1, from, to, T0.AddMinutes(minutesAfterT0 - 1), T0.AddMinutes(minutesAfterT0), "oltp-1");

    private static BackupRecord Backup(string id, int minutesAfterT0, ulong start, ulong stop, BackupState state = BackupState.Succeeded) =>
        new(id, state, T0.AddMinutes(minutesAfterT0), T0.AddMinutes(minutesAfterT0 + 1), 1, start, stop, true);

    [Fact]
    public void A_gap_is_bridged_only_by_a_restorable_backup_that_starts_after_it()
    {
        var gap = Gap(0x3000000, 0x5000000, 10);
        Assert.Single(WalGapPolicy.Unbridged([gap], [Backup("b1", 0, 0x1000000, 0x1000100)]));
        Assert.Single(WalGapPolicy.Unbridged([gap], [Backup("b2", 12, 0x5000028, 0x5000100, BackupState.Failed)]));
        Assert.Empty(WalGapPolicy.Unbridged([gap], [Backup("b3", 12, 0x5000028, 0x5000100)]));
    }

    [Fact]
    public void A_new_unbridged_gap_asks_for_one_backup_not_one_per_tick()
    {
        var gap = Gap(0x3000000, 0x5000000, 10);
        var before = Backup("b1", 0, 0x1000000, 0x1000100);
        Assert.Equal(gap, WalGapPolicy.BackupNeeded([gap], [before], backupRunning: false));
        Assert.Null(WalGapPolicy.BackupNeeded([gap], [before], backupRunning: true));
        Assert.Null(WalGapPolicy.BackupNeeded([gap], [before, Backup("b2", 11, 0x5000028, 0x5000100, BackupState.Failed)], backupRunning: false));
        Assert.Null(WalGapPolicy.BackupNeeded([], [before], backupRunning: false));
    }

    [Fact]
    public void A_restore_from_before_a_gap_reaches_targets_before_it_and_is_refused_past_it()
    {
        var gap = Gap(0x3000000, 0x5000000, 10);
        var before = Backup("b1", 0, 0x1000000, 0x1000100);
        var after = Backup("b2", 12, 0x5000028, 0x5000100);
        RestoreTargetSpec[] reachable =
        [
            new(RestoreTargetKind.Lsn, Lsn: 0x2000000),
            new(RestoreTargetKind.Time, Time: T0.AddMinutes(5)),
            new(RestoreTargetKind.Immediate),
        ];
        foreach (var target in reachable) Assert.Equal("b1", RestorePlanner.ChooseBase([before], null, target, [], [gap]).Base?.Id);

        var (refused, error) = RestorePlanner.ChooseBase([before], null, new RestoreTargetSpec(RestoreTargetKind.Latest), [], [gap]);
        Assert.Null(refused);
        Assert.Contains("backup b1 cannot reach latest: the WAL archive has a gap from 0/3000000 to 0/5000000", error, StringComparison.Ordinal);
        Assert.Contains("restore to a target before the gap, or from a base backup taken after it", error, StringComparison.Ordinal);
        Assert.Null(RestorePlanner.ChooseBase([before], null, new RestoreTargetSpec(RestoreTargetKind.Time, Time: T0.AddMinutes(30)), [], [gap]).Base);
        Assert.Contains("gap", RestorePlanner.ChooseBase([before], "b1", new RestoreTargetSpec(RestoreTargetKind.Lsn, Lsn: 0x4000000), [], [gap]).Error, StringComparison.Ordinal);
        // A backup taken after the gap restores past it.
        Assert.Equal("b2", RestorePlanner.ChooseBase([before, after], null, new RestoreTargetSpec(RestoreTargetKind.Latest), [], [gap]).Base?.Id);
    }

    [Fact]
    public void An_unbridged_gap_fires_WalArchiveGap_and_a_backup_after_it_resolves_it()
    {
        var policy = new BackupPolicy { ArchiveWal = true };
        var labels = new Dictionary<string, string> { ["environment"] = "local", ["tier"] = "oltp" };
        var archive = ArchiveStatus.None with { Gaps = [Gap(0x3000000, 0x5000000, 10)] };
        double Reading(IReadOnlyList<BackupRecord> backups) => BackupReadings.Of(labels, policy, archive, backups, [], "", T0)
            .Single(r => r.Metric == ControlPlane.Grains.Monitoring.MonitoringMetrics.WalArchiveGapsUnbridged).Value;

        Assert.Equal(1, Reading([Backup("b1", 0, 0x1000000, 0x1000100)]));
        Assert.Equal(0, Reading([Backup("b1", 0, 0x1000000, 0x1000100), Backup("b2", 12, 0x5000028, 0x5000100)]));
        Assert.Contains("WAL archive gap 0/3000000 to 0/5000000", ArchivePolicy.Alert(policy, archive, null, null, "", WalGapPolicy.Unbridged(archive.Gaps, [])), StringComparison.Ordinal);
    }
}
