using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Instances;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Postgres.Failover;

/// <summary>
/// Issue 21 mode 8 on a real pair: the standby is stopped, the primary commits rows it never receives and is killed,
/// the standby is promoted; the old primary's rejoin saves and decodes the WAL past the fork before pg_rewind.
/// </summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class DivergentWalSaveTests(FailoverPairTemplate template, ITestOutputHelper output)
{
    private const int Lost = 5;
    private static readonly TimeSpan PromoteWait = TimeSpan.FromSeconds(30);
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task An_old_primary_with_commits_no_standby_received_has_its_divergent_wal_saved_and_decoded_before_the_rewind()
    {
        await using var pair = await template.CreatePairAsync(output);
        var (old, standby) = (pair.Primary, pair.Standby);
        await DivergeAsync(old, standby);
        var checkedBeforeRewind = false;

        var report = await old.RejoinAsync(standby.Endpoint, FailoverPairTemplate.SlotOf(old.Name), rebuild: false, (wal, _) =>
        {
            // Handed over before pg_rewind: the old primary's own WAL past the fork is still there, and so is the save.
            Assert.True(File.Exists(Path.Combine(wal.Directory, LocalInstanceDriver.DivergenceReportFile)));
            Assert.True(File.Exists(Path.Combine(old.DataDirectory, "pg_wal", wal.Segments[0])));
            Assert.Equal(1, wal.Timeline);
            checkedBeforeRewind = true;
            return Task.CompletedTask;
        }, None);

        Assert.True(checkedBeforeRewind);
        Assert.Equal(RejoinPath.Rewind, report.Path);
        var wal = Assert.IsType<DivergentWal>(report.Divergence);
        output.WriteLine(wal.Summary);
        foreach (var t in wal.Transactions) output.WriteLine($"  {t.Xid} {t.Outcome} {t.Records} records: {string.Join(", ", t.Relations.Select(r => $"{r.Relation} ({r.Records})"))}");
        Assert.True(wal.Committed >= Lost, $"{wal.Committed} committed transactions in the divergent WAL; expected at least {Lost}");
        Assert.True(wal.Transactions.Count(t => t.Outcome == DivergentOutcome.Committed && t.Relations.Any(r => r.Relation == "postgres/lost")) >= Lost,
            "every lost insert is named by its table");
        Assert.Contains(wal.Transactions, t => t.Outcome == DivergentOutcome.Aborted);
        Assert.True(wal.End > wal.Start);
        Assert.Equal(standby.Name, wal.NewPrimary);
        Assert.Equal(2, wal.NewTimeline);
        Assert.Equal(Path.Combine(old.DivergentDirectory, DivergencePlanner.DirectoryName(old.Name, new DivergenceFork(1, wal.Start))), wal.Directory);
        foreach (var segment in wal.Segments) Assert.True(File.Exists(Path.Combine(wal.Directory, segment)), $"{segment} saved");
        Assert.Contains("COMMIT", await File.ReadAllTextAsync(Path.Combine(wal.Directory, LocalInstanceDriver.DivergenceDumpFile)), StringComparison.Ordinal);

        await InstanceFailoverTests.AwaitStreamingFromAsync(old, standby, timeline: 2);
        Assert.Equal(0L, await Sql.ScalarAsync(standby.Endpoint, "SELECT count(*) FROM lost WHERE id >= 100"));
    }

    [Fact]
    public async Task A_rejoin_that_stopped_between_the_save_and_the_rewind_is_redone_with_the_same_report()
    {
        await using var pair = await template.CreatePairAsync(output);
        var (old, standby) = (pair.Primary, pair.Standby);
        await DivergeAsync(old, standby);
        var slot = FailoverPairTemplate.SlotOf(old.Name);

        // The silo dies once the report is persisted: nothing may have been rewound.
        DivergentWal? first = null;
        await Assert.ThrowsAsync<OperationCanceledException>(() => old.RejoinAsync(standby.Endpoint, slot, rebuild: false, (wal, _) =>
        {
            first = wal;
            throw new OperationCanceledException("the silo died");
        }, None));
        Assert.NotNull(first);
        Assert.Equal(1, (await old.ReadControlDataAsync(None)).CheckpointTimeline);

        var seen = new List<DivergentWal>();
        var report = await old.RejoinAsync(standby.Endpoint, slot, rebuild: false, (wal, _) => { seen.Add(wal); return Task.CompletedTask; }, None);

        var again = Assert.Single(seen);
        Assert.Equal((first.Start, first.End, first.Directory, first.SavedAt, first.Committed), (again.Start, again.End, again.Directory, again.SavedAt, again.Committed));
        Assert.Equal(RejoinPath.Rewind, report.Path);
        Assert.Single(Directory.GetDirectories(old.DivergentDirectory));
        await InstanceFailoverTests.AwaitStreamingFromAsync(old, standby, timeline: 2);
    }

    /// <summary>The standby stops; the primary rolls one insert back, commits <see cref="Lost"/> and is killed; the standby is promoted and written to.</summary>
    private async Task DivergeAsync(LocalInstanceDriver old, LocalInstanceDriver standby)
    {
        await Sql.ScalarAsync(old.Endpoint, "CREATE TABLE lost (id int PRIMARY KEY, note text); INSERT INTO lost VALUES (1, 'replicated')");
        await InstanceFailoverTests.AwaitReplayedAsync(old, standby);
        await standby.StopAsync(StopMode.Fast, None);
        // The rollback first: its abort record is not flushed on its own, the commits after it flush it.
        await Sql.ScalarAsync(old.Endpoint, "BEGIN; INSERT INTO lost VALUES (999, 'rolled back'); ROLLBACK");
        for (var i = 0; i < Lost; i++) await Sql.ScalarAsync(old.Endpoint, $"INSERT INTO lost VALUES ({100 + i}, 'never replicated')");
        await old.SignalAllAsync(InstanceSignal.Kill, None);
        await standby.StartAsync(None);
        Assert.True(await SqlFailoverOps.PromoteAsync(standby.Endpoint, PromoteWait, None));
        await Sql.ScalarAsync(standby.Endpoint, "INSERT INTO lost VALUES (2, 'after the failover')");
        output.WriteLine($"diverged: {Lost} inserts committed on {old.Name} only, {standby.Name} promoted");
    }
}
