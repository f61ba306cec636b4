using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Xunit;

namespace ControlPlane.Tests.Postgres;

public sealed class FailoverOpsTests
{
    private const string ControlDataOutput = """
        pg_control version number:            1300
        Catalog version number:               202209061
        Database system identifier:           7441234567890123456
        Database cluster state:               shut down
        pg_control last modified:             Fri 27 Nov 2026 19:55:09 UTC
        Latest checkpoint location:           0/30218D0
        Latest checkpoint's REDO location:    0/30218D0
        Latest checkpoint's REDO WAL file:    000000010000000000000003
        Latest checkpoint's TimeLineID:       1
        Latest checkpoint's PrevTimeLineID:   1
        Minimum recovery ending location:     0/0
        Min recovery ending loc's timeline:   0
        """;

    private static ControlData Clean(string checkpoint, int timeline) => new(ControlData.ShutDown, Lsn.Parse(checkpoint), timeline, default);

    private static SourceTimeline Promoted(string switchPoint) =>
        new(2, Lsn.Parse("0/5000000"), [new TimelineHistoryEntry(1, Lsn.Parse(switchPoint))]);

    [Fact]
    public void Control_data_parses_state_checkpoint_and_timeline()
    {
        var control = ControlData.Parse(ControlDataOutput);

        Assert.Equal(ControlData.ShutDown, control.State);
        Assert.True(control.IsCleanPrimaryShutdown);
        Assert.Equal(Lsn.Parse("0/30218D0"), control.CheckpointLsn);
        Assert.Equal(1, control.CheckpointTimeline);
        Assert.Equal(default, control.MinRecoveryEnd);
    }

    [Fact]
    public void Control_data_without_a_checkpoint_line_is_refused_by_name() =>
        Assert.Contains("Latest checkpoint location", Assert.Throws<FormatException>(() => ControlData.Parse("Database cluster state: shut down\n")).Message, StringComparison.Ordinal);

    [Fact]
    public void Timeline_history_lists_each_parent_and_its_switch_point()
    {
        var history = TimelineHistory.Parse("1\t0/30218D0\tno recovery target specified\n\n2\t0/5000000\tat restore point \"x\"\n");

        Assert.Equal([new TimelineHistoryEntry(1, Lsn.Parse("0/30218D0")), new TimelineHistoryEntry(2, Lsn.Parse("0/5000000"))], history);
        Assert.Equal("0000000A.history", TimelineHistory.FileName(10));
    }

    [Fact]
    public void A_clean_shutdown_before_the_fork_starts_as_a_standby() =>
        Assert.Equal(RejoinPath.StartAsStandby, RejoinPlanner.Choose(Clean("0/30218D0", 1), Promoted("0/3021948")).Path);

    [Fact]
    public void A_clean_shutdown_at_or_past_the_fork_is_rewound()
    {
        Assert.Equal(RejoinPath.Rewind, RejoinPlanner.Choose(Clean("0/3021948", 1), Promoted("0/3021948")).Path);
        Assert.Equal(RejoinPath.Rewind, RejoinPlanner.Choose(Clean("0/4000000", 1), Promoted("0/3021948")).Path);
    }

    [Theory]
    [InlineData("in production")]
    [InlineData("in crash recovery")]
    public void A_crashed_primary_control_file_is_rewound(string state) =>
        Assert.Equal(RejoinPath.Rewind, RejoinPlanner.Choose(new ControlData(state, Lsn.Parse("0/1000000"), 1, default), Promoted("0/3021948")).Path);

    [Theory]
    [InlineData("in archive recovery")]
    [InlineData(ControlData.ShutDownInRecovery)]
    public void A_standby_that_replayed_no_further_than_the_fork_just_restarts_as_a_standby(string state)
    {
        var behind = RejoinPlanner.Choose(new ControlData(state, Lsn.Parse("0/1000000"), 1, Lsn.Parse("0/2000000")), Promoted("0/3021948"));
        Assert.True(behind.Path == RejoinPath.StartAsStandby, behind.Reason);
        Assert.Equal(RejoinPath.StartAsStandby,
            RejoinPlanner.Choose(new ControlData(state, Lsn.Parse("0/9000000"), 2, default), Promoted("0/3021948")).Path);
    }

    [Fact]
    public void A_standby_already_replaying_the_new_primarys_timeline_just_restarts() =>
        Assert.Equal(RejoinPath.StartAsStandby,
            RejoinPlanner.Choose(new ControlData("in archive recovery", Lsn.Parse("0/1000000"), 1, Lsn.Parse("0/4000000"), 2), Promoted("0/3021948")).Path);

    [Fact]
    public void A_standby_that_replayed_past_the_fork_is_rewound() =>
        Assert.Equal(RejoinPath.Rewind,
            RejoinPlanner.Choose(new ControlData("in archive recovery", Lsn.Parse("0/1000000"), 1, Lsn.Parse("0/4000000")), Promoted("0/3021948")).Path);

    [Fact]
    public void A_timeline_outside_the_new_primarys_history_is_rewound() =>
        Assert.Equal(RejoinPath.Rewind, RejoinPlanner.Choose(Clean("0/1000000", 3), Promoted("0/3021948")).Path);

    [Fact]
    public void On_the_same_timeline_only_a_checkpoint_behind_the_new_primary_starts_as_a_standby()
    {
        var source = new SourceTimeline(1, Lsn.Parse("0/5000000"), []);
        Assert.Equal(RejoinPath.StartAsStandby, RejoinPlanner.Choose(Clean("0/4000000", 1), source).Path);
        Assert.Equal(RejoinPath.Rewind, RejoinPlanner.Choose(Clean("0/5000000", 1), source).Path);
    }

    [Fact]
    public void Synchronous_standby_names_are_double_quoted()
    {
        Assert.Equal("FIRST 1 (\"oltp-2\", \"oltp_3\")", SynchronousStandbyNames.First(1, ["oltp-2", "oltp_3"]));
        Assert.Equal("ANY 2 (\"a\", \"b\")", SynchronousStandbyNames.Any(2, ["a", "b"]));
    }

    [Theory]
    [InlineData("Oltp-2")]
    [InlineData("2oltp")]
    [InlineData("oltp\"), x (\"y")]
    [InlineData("")]
    public void Synchronous_standby_names_refuse_names_outside_the_pattern(string name) =>
        Assert.Contains("^[a-z][a-z0-9_-]*$", Assert.Throws<ArgumentException>(() => SynchronousStandbyNames.First(1, [name])).Message, StringComparison.Ordinal);

    [Fact]
    public void Synchronous_standby_names_refuse_a_count_above_the_names() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => SynchronousStandbyNames.Any(2, ["a"]));

    [Fact]
    public void Config_makes_a_hung_primary_visible_to_its_standbys_within_seconds()
    {
        var conf = InstanceConfig.Render(5433, upstream: null);

        Assert.Contains("wal_receiver_timeout = '2s'", conf, StringComparison.Ordinal);
        Assert.Contains("wal_receiver_status_interval = '1s'", conf, StringComparison.Ordinal);
        Assert.Contains("wal_retrieve_retry_interval = '500ms'", conf, StringComparison.Ordinal);
        Assert.Contains("wal_sender_timeout = '5s'", conf, StringComparison.Ordinal);
        Assert.Contains("wal_log_hints = on", conf, StringComparison.Ordinal);
        Assert.DoesNotContain("recovery_target_timeline", conf, StringComparison.Ordinal);
    }

    [Fact]
    public void Standby_config_follows_the_latest_timeline() =>
        Assert.Contains("recovery_target_timeline = 'latest'",
            InstanceConfig.Render(5434, new UpstreamTarget("127.0.0.1", 5433, "oltp_2", "oltp-2", "/d/p")), StringComparison.Ordinal);

    [Fact]
    public void A_zombie_counts_as_gone_and_a_stopped_process_as_frozen()
    {
        Assert.True(new InstanceProcess(10, 1, 'Z', 5).IsGone);
        Assert.False(new InstanceProcess(10, 1, 'T', 5).IsGone);
        Assert.True(new InstanceProcess(10, 1, 'T', 5).IsFrozen);
    }
}
