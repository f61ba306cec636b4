using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Health;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Backups;

public sealed class WalSegmentsTests
{
    private const long Mb16 = WalSegments.DefaultSegmentBytes;

    private static string Seg(int timeline, ulong segment) => WalSegments.FileName(timeline, segment, Mb16);

    private static SourceTimeline Server(int timeline, params (int Timeline, string At)[] history) =>
        new(timeline, Lsn.Parse("9/0"), [.. history.Select(h => new TimelineHistoryEntry(h.Timeline, Lsn.Parse(h.At)))]);

    [Fact]
    public void A_segment_name_gives_its_timeline_and_segment_number()
    {
        Assert.True(WalSegments.TryParse("000000020000000100000003", Mb16, out var file));
        Assert.Equal(new WalFile("000000020000000100000003", WalFileKind.Segment, 2, 0x103), file);
    }

    [Fact]
    public void A_partial_segment_keeps_its_segment_number()
    {
        Assert.True(WalSegments.TryParse("0000000100000000000000A1.partial", Mb16, out var file));
        Assert.Equal((WalFileKind.Partial, 1, 0xA1UL), (file.Kind, file.Timeline, file.Segment));
    }

    [Fact]
    public void A_history_file_gives_its_timeline()
    {
        Assert.True(WalSegments.TryParse("0000000A.history", Mb16, out var file));
        Assert.Equal((WalFileKind.History, 10), (file.Kind, file.Timeline));
    }

    [Theory]
    [InlineData("00000001000000000000000a")]
    [InlineData("000000010000000000000001.tmp-1234")]
    [InlineData("00000001000000000000001")]
    [InlineData("000000010000000000000100")]
    [InlineData("000000000000000000000001")]
    [InlineData("00000000.history")]
    [InlineData("pg_receivewal.pid")]
    public void Names_that_are_not_wal_files_are_not_parsed(string name)
    {
        Assert.False(WalSegments.TryParse(name, Mb16, out _));
    }

    [Fact]
    public void A_file_name_parses_back_to_its_timeline_and_segment_for_every_segment_size()
    {
        Gen.Select(Gen.Int[1, int.MaxValue], Gen.ULong[0, (1UL << 34) - 1], Gen.Int[20, 30])
            .Sample((timeline, segment, shift) =>
            {
                var size = 1L << shift;
                var name = WalSegments.FileName(timeline, segment, size);
                return WalSegments.TryParse(name, size, out var file) && file.Timeline == timeline && file.Segment == segment;
            });
    }

    [Fact]
    public void The_segment_of_an_lsn_is_the_lsn_divided_by_the_segment_size()
    {
        Assert.Equal(3UL, WalSegments.SegmentOf(Lsn.Parse("0/3000028").Value, Mb16));
        Assert.Equal(256UL, WalSegments.SegmentOf(Lsn.Parse("1/0").Value, Mb16));
        Assert.Equal("000000010000000100000000", Seg(1, 256));
        Assert.Equal(Lsn.Parse("1/0").Value, WalSegments.StartOf(256, Mb16));
    }

    [Fact]
    public void A_segment_size_that_is_not_a_power_of_two_is_refused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => WalSegments.SegmentOf(0, 3L << 20));
        Assert.Equal("segmentBytes", e.ParamName);
    }

    [Theory]
    [InlineData("0/3000100", 2, false)] // ends before the fork
    [InlineData("0/3000100", 3, true)]  // contains it
    [InlineData("0/3000100", 4, true)]  // wholly past it
    [InlineData("0/3000000", 2, false)] // ends exactly at it
    [InlineData("0/3000000", 3, true)]  // starts exactly at it
    public void A_segment_holds_wal_past_the_fork_when_it_ends_after_it(string fork, ulong segment, bool expected)
    {
        Assert.True(WalSegments.TryParse(Seg(1, segment), Mb16, out var file));
        Assert.Equal(expected, WalSegments.HoldsWalPast(file, Lsn.Parse(fork), Mb16));
    }

    [Fact]
    public void Old_timeline_files_from_the_segment_holding_the_fork_on_move_aside()
    {
        string[] names = [Seg(1, 1), Seg(1, 2), Seg(1, 3), Seg(1, 4), Seg(1, 5) + ".partial", "00000002.history", Seg(2, 3) + ".partial"];
        var plan = WalSegments.PlanDivergence(names, Server(2, (1, "0/3000100")), Mb16);
        Assert.Null(plan.Refusal);
        Assert.Equal([Seg(1, 3), Seg(1, 4), Seg(1, 5) + ".partial"], plan.MoveAside.Select(f => f.Name));
        Assert.Null(plan.ResumeMarker); // the new timeline's segment 3 is where pg_receivewal goes on
    }

    [Fact]
    public void When_nothing_remains_from_the_fork_segment_on_an_empty_partial_there_marks_where_to_resume()
    {
        // Without it pg_receivewal, finding no segment, would start at the server's current position.
        var plan = WalSegments.PlanDivergence([Seg(1, 3), Seg(1, 4) + ".partial"], Server(2, (1, "0/3000100")), Mb16);
        Assert.Equal([Seg(1, 3), Seg(1, 4) + ".partial"], plan.MoveAside.Select(f => f.Name));
        Assert.Equal(Seg(1, 3) + ".partial", plan.ResumeMarker);
    }

    [Fact]
    public void A_partial_of_the_segment_holding_the_fork_moves_aside()
    {
        var plan = WalSegments.PlanDivergence([Seg(1, 2), Seg(1, 3) + ".partial"], Server(2, (1, "0/3000100")), Mb16);
        Assert.Equal([Seg(1, 3) + ".partial"], plan.MoveAside.Select(f => f.Name));
        Assert.Equal(Seg(1, 3) + ".partial", plan.ResumeMarker);
    }

    [Fact]
    public void The_partial_of_the_fork_segment_stays_once_the_archive_holds_the_new_timeline_from_there()
    {
        // pg_receivewal closed it at the switch: it ends at the fork and is not the old primary's WAL.
        var plan = WalSegments.PlanDivergence([Seg(1, 3) + ".partial", "00000002.history", Seg(2, 3), Seg(2, 4) + ".partial"],
            Server(2, (1, "0/3000100")), Mb16);
        Assert.Empty(plan.MoveAside);
    }

    [Fact]
    public void An_archive_ending_exactly_at_the_fork_resumes_on_the_new_timeline()
    {
        // Promoted right after a segment switch: timeline 1 ends at 0/5000000, where the archive's segment 4 ends. Asked
        // for timeline 1 from there, the server answers "timeline 2 from here" instead of streaming; pg_receivewal fails.
        var plan = WalSegments.PlanDivergence([Seg(1, 3), Seg(1, 4)], Server(2, (1, "0/5000000")), Mb16);
        Assert.Empty(plan.MoveAside);
        Assert.Equal(Seg(2, 5) + ".partial", plan.ResumeMarker);
    }

    [Fact]
    public void A_partial_of_the_old_primary_past_a_fork_on_a_segment_boundary_moves_aside_and_resumes_on_the_new_timeline()
    {
        // The old primary wrote into segment 5 of timeline 1 after the standby's last WAL (0/5000000, right after a
        // switch). Its .partial goes aside; a marker of timeline 1 there would ask for timeline 1 at its very end, which
        // pg_receivewal fails on at every retry (the CI run of 2b0789b: the archive never reached timeline 2).
        var plan = WalSegments.PlanDivergence([Seg(1, 3), Seg(1, 4), Seg(1, 5) + ".partial"], Server(2, (1, "0/5000000")), Mb16);
        Assert.Equal([Seg(1, 5) + ".partial"], plan.MoveAside.Select(f => f.Name));
        Assert.Equal(Seg(2, 5) + ".partial", plan.ResumeMarker);
        var twice = WalSegments.PlanDivergence([Seg(1, 4), Seg(1, 5) + ".partial"], Server(3, (1, "0/5000000"), (2, "0/5000000")), Mb16);
        Assert.Equal(Seg(3, 5) + ".partial", twice.ResumeMarker);
    }

    [Fact]
    public void An_archive_ending_at_two_forks_at_once_resumes_on_the_server_timeline()
    {
        var plan = WalSegments.PlanDivergence([Seg(1, 4)], Server(3, (1, "0/5000000"), (2, "0/5000000")), Mb16);
        Assert.Equal(Seg(3, 5) + ".partial", plan.ResumeMarker);
    }

    [Fact]
    public void An_archive_ending_before_the_fork_needs_no_marker()
    {
        Assert.Null(WalSegments.PlanDivergence([Seg(1, 3)], Server(2, (1, "0/5000000")), Mb16).ResumeMarker);
        Assert.Null(WalSegments.PlanDivergence([Seg(1, 4), Seg(2, 5) + ".partial"], Server(2, (1, "0/5000000")), Mb16).ResumeMarker);
    }

    [Fact]
    public void A_partial_of_an_old_timeline_ending_before_the_fork_stays()
    {
        var plan = WalSegments.PlanDivergence([Seg(1, 1), Seg(1, 2) + ".partial"], Server(2, (1, "0/3000100")), Mb16);
        Assert.Empty(plan.MoveAside);
    }

    [Fact]
    public void Files_of_the_servers_own_timeline_and_history_files_stay()
    {
        var plan = WalSegments.PlanDivergence([Seg(2, 9), Seg(2, 10) + ".partial", "00000002.history"], Server(2, (1, "0/3000100")), Mb16);
        Assert.Empty(plan.MoveAside);
    }

    [Fact]
    public void Every_file_of_an_older_timeline_missing_from_the_servers_history_moves_aside()
    {
        // Timeline 2 was a branch off timeline 1 that timeline 3 never followed.
        var plan = WalSegments.PlanDivergence([Seg(1, 2), Seg(2, 1), Seg(2, 2), "00000002.history"], Server(3, (1, "0/5000000")), Mb16);
        Assert.Equal([Seg(2, 1), Seg(2, 2)], plan.MoveAside.Select(f => f.Name));
    }

    [Fact]
    public void An_archive_on_a_newer_timeline_than_the_server_is_refused_and_nothing_moves()
    {
        var plan = WalSegments.PlanDivergence([Seg(1, 9), Seg(2, 3)], Server(1), Mb16);
        Assert.Empty(plan.MoveAside);
        Assert.Contains($"'{Seg(2, 3)}' of timeline 2, newer than the server's timeline 1", plan.Refusal, StringComparison.Ordinal);
    }
}
