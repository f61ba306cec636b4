using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Health;
using Xunit;

namespace ControlPlane.Tests.Postgres;

/// <summary>Mode 8 of issue 21: the pure part of saving an old primary's divergent WAL (parsing pg_waldump, the fork, segments, the summary).</summary>
public sealed class DivergentWalTests
{
    // Real pg_waldump 15 output: one committed insert of 3 rows, a rolled-back insert, an update and a delete, a WAL
    // switch, then the error every dump of a crashed primary's WAL ends with.
    private const string Dump = """
        rmgr: Heap        len (rec/tot):     61/    61, tx:        725, lsn: 0/01524E18, prev 0/01524DA0, desc: INSERT+INIT off 1 flags 0x00, blkref #0: rel 1663/5/16384 blk 0
        rmgr: Btree       len (rec/tot):     90/    90, tx:        725, lsn: 0/01524E58, prev 0/01524E18, desc: NEWROOT lev 0, blkref #0: rel 1663/5/16389 blk 2, blkref #2: rel 1663/5/16389 blk 0
        rmgr: Btree       len (rec/tot):     64/    64, tx:        725, lsn: 0/01524EB8, prev 0/01524E58, desc: INSERT_LEAF off 1, blkref #0: rel 1663/5/16389 blk 2
        rmgr: Heap        len (rec/tot):     61/    61, tx:        725, lsn: 0/01524EF8, prev 0/01524EB8, desc: INSERT off 2 flags 0x00, blkref #0: rel 1663/5/16384 blk 0
        rmgr: Btree       len (rec/tot):     64/    64, tx:        725, lsn: 0/01524F38, prev 0/01524EF8, desc: INSERT_LEAF off 2, blkref #0: rel 1663/5/16389 blk 2
        rmgr: Heap        len (rec/tot):     61/    61, tx:        725, lsn: 0/01524F78, prev 0/01524F38, desc: INSERT off 3 flags 0x00, blkref #0: rel 1663/5/16384 blk 0
        rmgr: Btree       len (rec/tot):     64/    64, tx:        725, lsn: 0/01524FB8, prev 0/01524F78, desc: INSERT_LEAF off 3, blkref #0: rel 1663/5/16389 blk 2
        rmgr: Transaction len (rec/tot):     34/    34, tx:        725, lsn: 0/01524FF8, prev 0/01524FB8, desc: COMMIT 2026-12-07 06:19:45.089953 UTC
        rmgr: Heap        len (rec/tot):     61/    61, tx:        726, lsn: 0/01525020, prev 0/01524FF8, desc: INSERT off 4 flags 0x00, blkref #0: rel 1663/5/16384 blk 0
        rmgr: Btree       len (rec/tot):     64/    64, tx:        726, lsn: 0/01525060, prev 0/01525020, desc: INSERT_LEAF off 4, blkref #0: rel 1663/5/16389 blk 2
        rmgr: Transaction len (rec/tot):     34/    34, tx:        726, lsn: 0/015250A0, prev 0/01525060, desc: ABORT 2026-12-07 06:19:45.096480 UTC
        rmgr: Heap        len (rec/tot):     69/    69, tx:        727, lsn: 0/015250C8, prev 0/015250A0, desc: HOT_UPDATE off 1 xmax 727 flags 0x20 ; new off 5 xmax 0, blkref #0: rel 1663/5/16384 blk 0
        rmgr: Transaction len (rec/tot):     34/    34, tx:        727, lsn: 0/01525110, prev 0/015250C8, desc: COMMIT 2026-12-07 06:19:45.098281 UTC
        rmgr: Heap        len (rec/tot):     54/    54, tx:        728, lsn: 0/01525138, prev 0/01525110, desc: DELETE off 2 flags 0x00 KEYS_UPDATED , blkref #0: rel 1663/5/16384 blk 0
        rmgr: XLOG        len (rec/tot):     24/    24, tx:          0, lsn: 0/01525198, prev 0/01525170, desc: SWITCH 
        pg_waldump: error: error in WAL record at 0/1525198: invalid record length at 0/15251B0: wanted 24, got 0
        """;

    private static readonly Dictionary<RelFileNode, string> Names = new() { [new RelFileNode(1663, 5, 16384)] = "postgres/t" };

    [Fact]
    public void Pg_waldump_lines_become_records_with_xid_lsn_length_and_relations_and_the_closing_error_is_skipped()
    {
        var records = WalDump.Parse(Dump);

        Assert.Equal(15, records.Count);
        var newRoot = records[1];
        Assert.Equal(("Btree", 90, 725u, Lsn.Parse("0/1524E58")), (newRoot.ResourceManager, newRoot.Length, newRoot.Xid, newRoot.Lsn));
        Assert.Equal([new RelFileNode(1663, 5, 16389)], newRoot.Relations);
        Assert.Equal(0u, records[^1].Xid);
        Assert.Equal(Lsn.Parse("0/15251B0"), records[^1].End);
    }

    [Fact]
    public void Records_are_summarised_per_transaction_with_outcome_size_and_named_relations()
    {
        var (transactions, outside) = DivergencePlanner.Summarise(WalDump.Parse(Dump), Names);

        Assert.Equal(1, outside);
        Assert.Equal([725u, 726u, 727u, 728u], transactions.Select(t => t.Xid));
        var insert = transactions[0];
        Assert.Equal(DivergentOutcome.Committed, insert.Outcome);
        Assert.Equal("2026-12-07 06:19:45.089953 UTC", insert.EndedAt);
        Assert.Equal(8, insert.Records);
        Assert.Equal(61 * 3 + 90 + 64 * 3 + 34, insert.Bytes);
        Assert.Equal([new RelationChanges("rel 1663/5/16389", 4), new RelationChanges("postgres/t", 3)], insert.Relations);
        Assert.Equal(DivergentOutcome.Aborted, transactions[1].Outcome);
        Assert.Equal(DivergentOutcome.Committed, transactions[2].Outcome);
        Assert.Equal(DivergentOutcome.Unfinished, transactions[3].Outcome);
        Assert.Null(transactions[3].EndedAt);
    }

    [Fact]
    public void Subtransactions_are_folded_into_the_transaction_whose_commit_lists_them()
    {
        const string dump = """
            rmgr: Heap        len (rec/tot):     61/    61, tx:        900, lsn: 0/03000028, prev 0/03000000, desc: INSERT off 1 flags 0x00, blkref #0: rel 1663/5/16384 blk 0
            rmgr: Heap        len (rec/tot):     61/    61, tx:        901, lsn: 0/03000068, prev 0/03000028, desc: INSERT off 2 flags 0x00, blkref #0: rel 1663/5/16384 blk 0
            rmgr: Transaction len (rec/tot):     42/    42, tx:        900, lsn: 0/030000A8, prev 0/03000068, desc: COMMIT 2026-12-07 07:00:00.000001 UTC; subxacts: 901
            """;

        var (transactions, _) = DivergencePlanner.Summarise(WalDump.Parse(dump), Names);

        var tx = Assert.Single(transactions);
        Assert.Equal((900u, DivergentOutcome.Committed, 3), (tx.Xid, tx.Outcome, tx.Records));
        Assert.Equal([new RelationChanges("postgres/t", 2)], tx.Relations);
    }

    [Fact]
    public void A_prepared_transaction_is_reported_as_prepared()
    {
        const string dump = """
            rmgr: Heap        len (rec/tot):     61/    61, tx:        950, lsn: 0/03000028, prev 0/03000000, desc: INSERT off 1 flags 0x00, blkref #0: rel 1663/5/16384 blk 0
            rmgr: Transaction len (rec/tot):    100/   100, tx:        950, lsn: 0/03000068, prev 0/03000028, desc: PREPARE gid t1: 2026-12-07 07:00:00.000001 UTC
            """;

        Assert.Equal(DivergentOutcome.Prepared, Assert.Single(DivergencePlanner.Summarise(WalDump.Parse(dump), Names).Transactions).Outcome);
    }

    [Fact]
    public void Output_without_records_parses_to_none()
    {
        Assert.Empty(WalDump.Parse("pg_waldump: error: could not find a valid record after 0/1700000\n"));
        Assert.Empty(WalDump.Parse(""));
    }

    [Fact]
    public void The_fork_is_where_the_new_primary_history_left_the_old_primary_timeline()
    {
        var source = new SourceTimeline(3, Lsn.Parse("0/9000000"),
            [new TimelineHistoryEntry(1, Lsn.Parse("0/3000100")), new TimelineHistoryEntry(2, Lsn.Parse("0/5000200"))]);

        Assert.Equal(new DivergenceFork(2, Lsn.Parse("0/5000200")), DivergencePlanner.Fork(2, source).Fork);
        Assert.Equal(new DivergenceFork(1, Lsn.Parse("0/3000100")), DivergencePlanner.Fork(1, source).Fork);
        Assert.Null(DivergencePlanner.Fork(3, source).Fork);
        var (none, reason) = DivergencePlanner.Fork(4, source);
        Assert.Null(none);
        Assert.Contains("timeline 4 is not in the history", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_old_primary_timeline_is_the_highest_among_its_segment_names_not_its_control_file()
    {
        Assert.Equal(2, DivergencePlanner.LatestTimeline(["000000010000000000000003", "000000020000000000000003", "00000002.history", "archive_status"]));
        Assert.Equal(10, DivergencePlanner.LatestTimeline(["0000000A0000000000000001", "000000020000000000000009"]));
        Assert.Null(DivergencePlanner.LatestTimeline(["archive_status", "00000002.history"]));
    }

    [Fact]
    public void Segment_files_are_named_as_postgresql_names_them_and_cover_the_range()
    {
        const long sixteenMiB = 16L * 1024 * 1024;
        Assert.Equal("000000010000000000000001", DivergencePlanner.SegmentName(1, Lsn.Parse("0/1524E18"), sixteenMiB));
        Assert.Equal("0000000200000001000000FF", DivergencePlanner.SegmentName(2, Lsn.Parse("1/FF000000"), sixteenMiB));
        Assert.Equal("000000010000000000000001", DivergencePlanner.SegmentName(1, Lsn.Parse("0/43000000"), 1024 * 1024 * 1024));
        Assert.Equal(["000000010000000000000001", "000000010000000000000002"],
            DivergencePlanner.Segments(1, Lsn.Parse("0/1FFFF00"), Lsn.Parse("0/2000100"), sixteenMiB));
        Assert.Equal(["000000010000000000000001"], DivergencePlanner.Segments(1, Lsn.Parse("0/1524E18"), Lsn.Parse("0/2000000"), sixteenMiB));
        Assert.Empty(DivergencePlanner.Segments(1, Lsn.Parse("0/2000000"), Lsn.Parse("0/2000000"), sixteenMiB));
        Assert.Throws<ArgumentOutOfRangeException>(() => DivergencePlanner.SegmentName(1, Lsn.Parse("0/0"), 1000));
    }

    [Fact]
    public void The_saved_directory_is_named_by_replica_timeline_and_fork_so_a_second_save_finds_the_first()
    {
        var fork = new DivergenceFork(1, Lsn.Parse("0/3000100"));
        Assert.Equal("oltp-1-tl1-0-3000100", DivergencePlanner.DirectoryName("oltp-1", fork));
        Assert.Equal(DivergencePlanner.DirectoryName("oltp-1", fork), DivergencePlanner.DirectoryName("oltp-1", fork with { }));
    }

    [Fact]
    public void The_control_file_gives_the_wal_segment_size()
    {
        var text = """
            Database cluster state:               in production
            Latest checkpoint location:           0/1524DA0
            Latest checkpoint's TimeLineID:       1
            Minimum recovery ending location:     0/0
            Bytes per WAL segment:                67108864
            """;
        Assert.Equal(64L * 1024 * 1024, ControlData.Parse(text).WalSegmentBytes);
        Assert.Equal(ControlData.DefaultWalSegmentBytes, ControlData.Parse(text.Replace("Bytes per WAL segment:                67108864", "", StringComparison.Ordinal)).WalSegmentBytes);
    }
}
