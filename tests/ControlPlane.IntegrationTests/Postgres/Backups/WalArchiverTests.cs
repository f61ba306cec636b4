using System.Globalization;
using ControlPlane.IntegrationTests.Postgres.Failover;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Postgres.Backups;

[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class WalArchiverTests(FailoverPairTemplate template, ITestOutputHelper output)
{
    private const long Segment = WalSegments.DefaultSegmentBytes;

    [Fact]
    public async Task The_archived_position_reaches_the_lsn_of_a_commit()
    {
        await using var bench = await ArchiveBench.CreateAsync(template, output);
        await bench.Archiver.FollowAsync(bench.Source(bench.Pair.Primary), CancellationToken.None);

        var commit = await ArchiveBench.CommitAsync(bench.Pair.Primary);

        await bench.WaitStoredAsync(commit);
        var status = bench.Archiver.Status;
        Assert.True(status.Running);
        Assert.Equal("fo-1", status.Server);
    }

    [Fact]
    public async Task Following_the_same_primary_again_keeps_the_running_pg_receivewal()
    {
        await using var bench = await ArchiveBench.CreateAsync(template, output);
        await bench.Archiver.FollowAsync(bench.Source(bench.Pair.Primary), CancellationToken.None);
        var pid = await File.ReadAllTextAsync(bench.Archiver.PidFile);

        await bench.Archiver.FollowAsync(bench.Source(bench.Pair.Primary), CancellationToken.None);

        Assert.Equal(pid, await File.ReadAllTextAsync(bench.Archiver.PidFile));
        Assert.Equal(0, bench.Archiver.Status.Restarts);
    }

    [Fact]
    public async Task A_killed_pg_receivewal_is_restarted_and_the_archive_has_no_gap()
    {
        await using var bench = await ArchiveBench.CreateAsync(template, output);
        await bench.Archiver.FollowAsync(bench.Source(bench.Pair.Primary), CancellationToken.None);
        await bench.WaitStoredAsync(await ArchiveBench.CommitAsync(bench.Pair.Primary));
        var first = bench.Files(bench.Wal).First();
        var pid = int.Parse(await File.ReadAllTextAsync(bench.Archiver.PidFile), CultureInfo.InvariantCulture);

        Assert.True(InstanceProcesses.Signal(pid, InstanceSignal.Kill));

        await Poll.UntilAsync(() => Task.FromResult(bench.Archiver.Status), s => s.Restarts == 1 && s.Running, "the archiver to restart");
        var commit = await ArchiveBench.CommitAsync(bench.Pair.Primary);
        await bench.WaitSegmentAsync(1, await ArchiveBench.SwitchAsync(bench.Pair.Primary));
        await bench.WalDumpAsync(1, WalSegments.StartOf(first.Segment, Segment), commit);
    }

    [Fact]
    public async Task After_a_failover_the_archive_holds_continuous_wal_from_the_old_timeline_into_the_new_one()
    {
        await using var bench = await ArchiveBench.CreateAsync(template, output);
        var (primary, standby) = (bench.Pair.Primary, bench.Pair.Standby);
        await bench.Archiver.FollowAsync(bench.Source(primary), CancellationToken.None);
        await ArchiveBench.CommitAsync(primary);
        var firstComplete = await ArchiveBench.SwitchAsync(primary);
        var beforeFailover = await ArchiveBench.CommitAsync(primary);
        await bench.WaitStoredAsync(beforeFailover);
        await bench.WaitReplayedAsync(standby, beforeFailover);

        await primary.KillAsync(InstanceSignal.Kill, CancellationToken.None);
        await standby.PromoteAsync(CancellationToken.None);
        await bench.Archiver.FollowAsync(bench.Source(standby), CancellationToken.None);
        var afterFailover = await ArchiveBench.CommitAsync(standby);
        await bench.WaitSegmentAsync(2, await ArchiveBench.SwitchAsync(standby));

        var fork = (await SqlFailoverOps.ReadSourceTimelineAsync(standby.Endpoint, CancellationToken.None)).History.Single().SwitchPoint.Value;
        var forkSegment = WalSegments.SegmentOf(fork, Segment);
        Assert.True(File.Exists(Path.Combine(bench.Wal, "00000002.history")));
        for (var s = firstComplete; s < forkSegment; s++) Assert.True(File.Exists(bench.SegmentPath(1, s)), $"timeline 1 segment {s} is archived");
        await bench.WalDumpAsync(1, WalSegments.StartOf(firstComplete, Segment), WalSegments.StartOf(forkSegment, Segment));
        Assert.InRange(beforeFailover, WalSegments.StartOf(firstComplete, Segment), fork);
        await bench.WalDumpAsync(2, WalSegments.StartOf(forkSegment, Segment), afterFailover);
    }

    [Fact]
    public async Task Following_the_new_primary_moves_the_old_primarys_diverged_wal_aside_and_streams_again()
    {
        await using var bench = await ArchiveBench.CreateAsync(template, output);
        var (oldPrimary, newPrimary) = (bench.Pair.Primary, bench.Pair.Standby);
        await bench.Archiver.FollowAsync(bench.Source(oldPrimary), CancellationToken.None);
        var shared = await ArchiveBench.CommitAsync(oldPrimary);
        await bench.WaitReplayedAsync(newPrimary, shared);
        // The standby is promoted while the old primary goes on writing: only the archiver gets those writes.
        await newPrimary.PromoteAsync(CancellationToken.None);
        var fork = (await SqlFailoverOps.ReadSourceTimelineAsync(newPrimary.Endpoint, CancellationToken.None)).History.Single().SwitchPoint;
        await ArchiveBench.CommitAsync(oldPrimary);
        var divergedSegment = await ArchiveBench.SwitchAsync(oldPrimary);
        await bench.WaitStoredAsync(await ArchiveBench.CommitAsync(oldPrimary));
        Assert.True(File.Exists(bench.SegmentPath(1, divergedSegment)));

        await bench.Archiver.FollowAsync(bench.Source(newPrimary), CancellationToken.None);
        var commit = await ArchiveBench.CommitAsync(newPrimary);
        await bench.WaitSegmentAsync(2, await ArchiveBench.SwitchAsync(newPrimary));

        var aside = bench.Files(bench.Archiver.DivergedDirectory);
        Assert.Contains(aside, f => f.Timeline == 1 && f.Segment == divergedSegment && f.Kind == WalFileKind.Segment);
        Assert.Contains(aside, f => f.Timeline == 1 && f.Segment == divergedSegment + 1 && f.Kind == WalFileKind.Partial);
        Assert.DoesNotContain(bench.Files(bench.Wal), f => f.Timeline == 1 && f.Kind == WalFileKind.Segment && WalSegments.HoldsWalPast(f, fork, Segment));
        await bench.WalDumpAsync(2, WalSegments.StartOf(WalSegments.SegmentOf(fork.Value, Segment), Segment), commit);
        Assert.Equal("fo-2", bench.Archiver.Status.Server);
    }

    [Fact]
    public async Task The_mirror_receives_every_complete_segment_and_history_file_once()
    {
        await using var bench = await ArchiveBench.CreateAsync(template, output, mirror: true);
        await bench.Archiver.FollowAsync(bench.Source(bench.Pair.Primary), CancellationToken.None);
        await bench.WaitReplayedAsync(bench.Pair.Standby, await ArchiveBench.CommitAsync(bench.Pair.Primary));
        await bench.Pair.Primary.KillAsync(InstanceSignal.Kill, CancellationToken.None);
        await bench.Pair.Standby.PromoteAsync(CancellationToken.None);
        await bench.Archiver.FollowAsync(bench.Source(bench.Pair.Standby), CancellationToken.None);
        await ArchiveBench.CommitAsync(bench.Pair.Standby);
        await bench.WaitSegmentAsync(2, await ArchiveBench.SwitchAsync(bench.Pair.Standby));
        await bench.Archiver.StopAsync(CancellationToken.None);

        var copied = await bench.Archiver.MirrorAsync(CancellationToken.None);
        var again = await bench.Archiver.MirrorAsync(CancellationToken.None);

        var expected = bench.Files(bench.Wal).Where(f => f.Kind != WalFileKind.Partial).Select(f => f.Name).ToList();
        Assert.Contains("00000002.history", expected);
        var mirrored = bench.Files(bench.Mirror!.WalDirectory).Select(f => f.Name).ToList();
        Assert.Empty(expected.Except(mirrored));
        foreach (var name in expected)
        {
            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(bench.Wal, name)), await File.ReadAllBytesAsync(Path.Combine(bench.Mirror.WalDirectory, name)));
        }
        Assert.Equal(bench.Files(bench.Wal).Count, copied);
        Assert.Equal(0, again);
    }

    [Fact]
    public async Task Retention_deletes_exactly_the_segments_before_the_one_holding_the_lsn_in_both_repositories()
    {
        await using var bench = await ArchiveBench.CreateAsync(template, output, mirror: true);
        await bench.Archiver.FollowAsync(bench.Source(bench.Pair.Primary), CancellationToken.None);
        var last = 0UL;
        for (var i = 0; i < 4; i++)
        {
            await ArchiveBench.CommitAsync(bench.Pair.Primary);
            last = await ArchiveBench.SwitchAsync(bench.Pair.Primary);
        }
        await bench.WaitSegmentAsync(1, last);
        await bench.Archiver.StopAsync(CancellationToken.None);
        await bench.Archiver.MirrorAsync(CancellationToken.None);
        var before = bench.Files(bench.Wal);
        var keepFrom = last - 1;

        var cleanup = await bench.Archiver.DeleteBeforeAsync(WalSegments.StartOf(keepFrom, Segment) + 0x100, CancellationToken.None);

        var expected = before.Where(f => f.Segment >= keepFrom).Select(f => f.Name).ToList();
        Assert.Equal(expected, bench.Files(bench.Wal).Select(f => f.Name));
        Assert.Equal(expected, bench.Files(bench.Mirror!.WalDirectory).Select(f => f.Name));
        Assert.Equal(2 * before.Count(f => f.Segment < keepFrom), cleanup.Files);
    }

    [Fact]
    public async Task An_orphaned_pg_receivewal_writing_into_the_archive_is_killed_before_a_new_one_starts()
    {
        await using var bench = await ArchiveBench.CreateAsync(template, output);
        using var orphan = await StartOrphanAsync(bench);
        // The silo that started it was killed: its pid file is all that is left of it.
        await File.WriteAllTextAsync(bench.Archiver.PidFile, orphan.Pid.ToString(CultureInfo.InvariantCulture));

        await bench.Archiver.FollowAsync(bench.Source(bench.Pair.Primary), CancellationToken.None);

        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        Assert.Equal(128 + 9, await orphan.WaitAsync(limit.Token));
        Assert.NotEqual(orphan.Pid.ToString(CultureInfo.InvariantCulture), (await File.ReadAllTextAsync(bench.Archiver.PidFile)).Trim());
        await bench.WaitStoredAsync(await ArchiveBench.CommitAsync(bench.Pair.Primary));
    }

    [Fact]
    public async Task Wal_the_primary_removed_before_it_was_archived_is_recorded_as_a_gap_and_archiving_resumes_past_it()
    {
        await using var bench = await ArchiveBench.CreateAsync(template, output);
        var primary = bench.Pair.Primary;
        await bench.Archiver.FollowAsync(bench.Source(primary), CancellationToken.None);
        await bench.WaitStoredAsync(await ArchiveBench.CommitAsync(primary));
        await bench.Archiver.StopAsync(CancellationToken.None);
        var resumeFile = WalGaps.ResumeFile(bench.Files(bench.Wal))!;
        var archivedUpTo = WalGaps.ResumeLsn(resumeFile, Segment);
        var needed = WalSegments.FileName(1, WalSegments.SegmentOf(archivedUpTo, Segment), Segment);

        // While the archive is stopped its slot goes (as on a new primary that never had it) and the primary recycles
        // the WAL the archive needs next: nothing on any server can fill that hole any more.
        await Sql.ScalarAsync(primary.Endpoint, "SELECT pg_drop_replication_slot('controlplane_archive')");
        await Sql.ScalarAsync(primary.Endpoint, "ALTER SYSTEM SET wal_keep_size = 0");
        await Sql.ScalarAsync(primary.Endpoint, "SELECT pg_reload_conf()");
        for (var round = 0; await WalFileOnServerAsync(primary, needed); round++)
        {
            Assert.True(round < 20, $"{needed} still on the primary after {round} switches and checkpoints");
            await ArchiveBench.CommitAsync(primary);
            await ArchiveBench.SwitchAsync(primary);
            await Sql.ScalarAsync(primary.Endpoint, "CHECKPOINT");
        }
        output.WriteLine($"{needed} removed from the primary; the archive holds WAL up to {new Lsn(archivedUpTo)}");

        await bench.Archiver.FollowAsync(bench.Source(primary), CancellationToken.None);
        var afterGap = await ArchiveBench.CommitAsync(primary);
        await bench.WaitStoredAsync(afterGap);

        var gap = Assert.Single(bench.Archiver.Gaps);
        output.WriteLine($"gap: {gap}; archiver restarts {bench.Archiver.Status.Restarts}, last error {bench.Archiver.Status.LastError}");
        Assert.Equal(archivedUpTo, gap.FromLsn);
        Assert.True(gap.ToLsn > gap.FromLsn && gap.ToLsn <= afterGap);
        Assert.Equal(0UL, gap.ToLsn % (ulong)Segment);
        Assert.Equal("fo-1", gap.Server);
        Assert.Contains("has already been removed", bench.Archiver.Status.LastError, StringComparison.Ordinal);
        Assert.True(bench.Archiver.Status.Running);
        // Everything from the gap's end on is archived and decodes; the gap survives the archiver (a new silo reads it).
        await bench.WaitSegmentAsync(1, await ArchiveBench.SwitchAsync(primary));
        await bench.WalDumpAsync(1, gap.ToLsn, afterGap);
        Assert.Equal(gap, Assert.Single(WalGapLog.Read(bench.Repository)));
    }

    private static async Task<bool> WalFileOnServerAsync(LocalInstanceDriver server, string name) =>
        (bool)(await Sql.ScalarAsync(server.Endpoint, $"SELECT EXISTS (SELECT 1 FROM pg_ls_waldir() WHERE name = '{name}')"))!;

    /// <summary>A pg_receivewal into the archive's WAL directory that no archiver of this test started.</summary>
    private static async Task<WalReceiverProcess> StartOrphanAsync(ArchiveBench bench)
    {
        var passFile = Path.Combine(bench.Pair.Directory, "orphan.pgpass");
        await SecretFile.WriteForPostgresAsync(passFile,
            SecretFile.PgPassLine(InstanceConfig.ReplicationUser, SecretFile.Read(bench.Source(bench.Pair.Primary).ReplicatorPasswordFile)), CancellationToken.None);
        Directory.CreateDirectory(bench.Wal);
        await OsUser.GiveToPostgresAsync(bench.Repository.TierDirectory, recursive: true, CancellationToken.None);
        await OsUser.EnsureAncestorsTraversableAsync(bench.Wal, bench.Pair.Log, CancellationToken.None);
        var endpoint = bench.Pair.Primary.Endpoint;
        var orphan = WalReceiverProcess.Start(PgBinaries.Shared.Tool(WalReceiverProcess.ToolName),
            ["-D", bench.Wal, "-d", $"host={endpoint.Host} port={endpoint.Port} user=replicator passfile={passFile}", "--no-loop"]);
        await Poll.UntilAsync(() => Task.FromResult(bench.Files(bench.Wal).Count), n => n > 0, "the orphan to write into the archive");
        return orphan;
    }
}
