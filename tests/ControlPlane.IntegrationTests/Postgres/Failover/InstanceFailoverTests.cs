using System.Diagnostics;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Postgres.Failover;

/// <summary>Failover by hand with the Postgres layer's operations, on a fresh copy of a pair per test.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class InstanceFailoverTests(FailoverPairTemplate template, ITestOutputHelper output)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PromoteWait = TimeSpan.FromSeconds(30);
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_killed_primary_is_replaced_by_the_promoted_standby_and_rejoins_it_through_pg_rewind()
    {
        await using var pair = await template.CreatePairAsync(output);
        var (old, standby) = (pair.Primary, pair.Standby);
        await Sql.ScalarAsync(old.Endpoint, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
        await AwaitReplayedAsync(old, standby);

        await old.SignalAllAsync(InstanceSignal.Kill, None);
        var watch = Stopwatch.StartNew();
        Assert.True(await SqlFailoverOps.PromoteAsync(standby.Endpoint, PromoteWait, None));
        output.WriteLine($"promote took {watch.ElapsedMilliseconds} ms");
        Assert.True(await SqlFailoverOps.PromoteAsync(standby.Endpoint, PromoteWait, None), "promoting a primary again is a no-op");
        await Sql.ScalarAsync(standby.Endpoint, "INSERT INTO t VALUES (2)");

        var report = await old.RejoinAsync(standby.Endpoint, FailoverPairTemplate.SlotOf(old.Name), None);

        Assert.Equal(RejoinPath.Rewind, report.Path);
        await AwaitStreamingFromAsync(old, standby, timeline: 2);
        await AwaitRowAsync(old, 2);
    }

    [Fact]
    public async Task An_old_primary_that_pg_rewind_cannot_repair_is_rebuilt_from_a_base_backup()
    {
        await using var pair = await template.CreatePairAsync(output);
        var (old, standby) = (pair.Primary, pair.Standby);
        await old.SignalAllAsync(InstanceSignal.Kill, None);
        // Without its WAL the crashed instance cannot finish crash recovery, so pg_rewind gives up.
        foreach (var segment in Directory.GetFiles(Path.Combine(old.DataDirectory, "pg_wal"), "0000*")) File.Delete(segment);
        Assert.True(await SqlFailoverOps.PromoteAsync(standby.Endpoint, PromoteWait, None));
        await Sql.ScalarAsync(standby.Endpoint, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (2)");

        var report = await old.RejoinAsync(standby.Endpoint, FailoverPairTemplate.SlotOf(old.Name), None);

        Assert.Equal(RejoinPath.BaseBackup, report.Path);
        Assert.Contains("pg_rewind failed", report.Reason, StringComparison.Ordinal);
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(old.DataDirectory)!, "data.failed-*"));
        await AwaitStreamingFromAsync(old, standby, timeline: 2);
        await AwaitRowAsync(old, 2);
    }

    [Fact]
    public async Task A_frozen_primary_is_fenced_with_no_process_left_and_rejoins()
    {
        await using var pair = await template.CreatePairAsync(output);
        var (old, standby) = (pair.Primary, pair.Standby);
        await using var standbyProbe = new ReplicaProbe(standby.Endpoint, ProbeTimeout);
        var streaming = await Poll.UntilAsync(() => standbyProbe.ProbeAsync(None), r => r.WalReceiverStatus == "streaming", "the standby to stream");
        Assert.NotNull(streaming.WalReceiverLastMessageAgeSeconds);

        await old.SignalAllAsync(InstanceSignal.Stop, None);
        await Poll.UntilAsync(() => Task.FromResult(old.Processes()), ps => ps.Count > 0 && ps.All(p => p.IsFrozen), "every process of the primary to be stopped");
        Assert.True(old.IsFrozen());
        var watch = Stopwatch.StartNew();
        var noticed = await Poll.UntilAsync(() => standbyProbe.ProbeAsync(None), r => r.WalReceiverStatus != "streaming", "the standby to stop streaming from the frozen primary");
        output.WriteLine($"standby left 'streaming' {watch.ElapsedMilliseconds} ms after SIGSTOP (now {noticed.WalReceiverStatus ?? "no receiver"})");

        await old.FenceAsync(None);

        Assert.Empty(old.Processes());
        Assert.False(await old.IsRunningAsync(None));
        await old.FenceAsync(None);
        Assert.True(await SqlFailoverOps.PromoteAsync(standby.Endpoint, PromoteWait, None));
        var report = await old.RejoinAsync(standby.Endpoint, FailoverPairTemplate.SlotOf(old.Name), None);
        output.WriteLine($"rejoin by {report.Path} took {report.Elapsed.TotalMilliseconds:0} ms");
        await AwaitStreamingFromAsync(old, standby, timeline: 2);
    }

    [Fact]
    public async Task Switchover_stops_the_primary_cleanly_and_rejoins_it_without_rewind()
    {
        await using var pair = await template.CreatePairAsync(output);
        var (old, standby) = (pair.Primary, pair.Standby);
        await Sql.ScalarAsync(old.Endpoint, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");

        var checkpoint = await old.StopCleanAsync(None);
        await using var standbyProbe = new ReplicaProbe(standby.Endpoint, ProbeTimeout);
        await Poll.UntilAsync(() => standbyProbe.ProbeAsync(None), r => r.ReceiveLsn > checkpoint, $"the standby to receive past the shutdown checkpoint {checkpoint}");
        Assert.True(await SqlFailoverOps.PromoteAsync(standby.Endpoint, PromoteWait, None));
        await Sql.ScalarAsync(standby.Endpoint, "INSERT INTO t VALUES (2)");

        var report = await old.RejoinAsync(standby.Endpoint, FailoverPairTemplate.SlotOf(old.Name), None);

        Assert.Equal(RejoinPath.StartAsStandby, report.Path);
        await AwaitStreamingFromAsync(old, standby, timeline: 2);
        await AwaitRowAsync(old, 2);
        Assert.Equal(1L, await Sql.ScalarAsync(old.Endpoint, "SELECT count(*) FROM t WHERE id = 1"));
    }

    [Fact]
    public async Task A_synchronously_committed_write_survives_a_kill_of_the_primary()
    {
        await using var pair = await template.CreatePairAsync(output);
        var (old, standby) = (pair.Primary, pair.Standby);
        var names = SynchronousStandbyNames.First(1, [standby.Name]);
        await SqlFailoverOps.SetSynchronousStandbyNamesAsync(old.Endpoint, names, None);
        Assert.Equal(names, await SqlFailoverOps.GetSynchronousStandbyNamesAsync(old.Endpoint, None));
        await using var primaryProbe = new ReplicaProbe(old.Endpoint, ProbeTimeout);
        await Poll.UntilAsync(() => primaryProbe.ProbeAsync(None),
            r => r.Replication.Any(p => p.ApplicationName == standby.Name && p.SyncState == "sync"), "the standby to be synchronous");

        await using (var connection = await Sql.OpenAsync(old.Endpoint))
        {
            await Sql.ScalarAsync(connection, "SET synchronous_commit = on; CREATE TABLE acked (id int PRIMARY KEY)");
            for (var i = 1; i <= 20; i++) await Sql.ScalarAsync(connection, $"INSERT INTO acked VALUES ({i})");
        }
        await old.SignalAllAsync(InstanceSignal.Kill, None);
        Assert.True(await SqlFailoverOps.PromoteAsync(standby.Endpoint, PromoteWait, None));

        Assert.Equal(20L, await Sql.ScalarAsync(standby.Endpoint, "SELECT count(*) FROM acked"));
    }

    [Fact]
    public async Task Repoint_moves_the_other_standby_to_the_promoted_one()
    {
        await using var pair = await template.CreatePairAsync(output);
        var old = pair.Primary;
        var third = pair.Add("fo-3");
        await third.CreateStandbyAsync(old.Endpoint, FailoverPairTemplate.SlotOf(third.Name), None);
        await Sql.ScalarAsync(old.Endpoint, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
        await AwaitReplayedAsync(old, pair.Standby);
        await AwaitReplayedAsync(old, third);

        await old.SignalAllAsync(InstanceSignal.Kill, None);
        // Election as the policy does it: the standby that received the most is promoted, the other follows it.
        var received = new Dictionary<LocalInstanceDriver, Lsn>();
        foreach (var s in new[] { pair.Standby, third })
        {
            await using var probe = new ReplicaProbe(s.Endpoint, ProbeTimeout);
            received[s] = (await probe.ProbeAsync(None)).ReceiveLsn ?? default;
        }
        var promoted = received[pair.Standby] >= received[third] ? pair.Standby : third;
        var follower = promoted == third ? pair.Standby : third;
        Assert.True(await SqlFailoverOps.PromoteAsync(promoted.Endpoint, PromoteWait, None));

        await follower.RepointAsync(promoted.Endpoint, FailoverPairTemplate.SlotOf(follower.Name), None);

        await Sql.ScalarAsync(promoted.Endpoint, "INSERT INTO t VALUES (2)");
        await AwaitStreamingFromAsync(follower, promoted, timeline: 2);
        await AwaitRowAsync(follower, 2);
    }

    internal static async Task AwaitReplayedAsync(LocalInstanceDriver primary, LocalInstanceDriver standby)
    {
        await using var primaryProbe = new ReplicaProbe(primary.Endpoint, ProbeTimeout);
        var written = (await primaryProbe.ProbeAsync(None)).CurrentLsn!.Value;
        await using var probe = new ReplicaProbe(standby.Endpoint, ProbeTimeout);
        await Poll.UntilAsync(() => probe.ProbeAsync(None), r => r.ReplayLsn >= written, $"{standby.Name} to replay {written}");
    }

    internal static async Task AwaitStreamingFromAsync(LocalInstanceDriver standby, LocalInstanceDriver primary, int timeline)
    {
        await using var probe = new ReplicaProbe(standby.Endpoint, ProbeTimeout);
        await Poll.UntilAsync(() => probe.ProbeAsync(None),
            r => r.Reachable && r.InRecovery && r.WalReceiverStatus == "streaming" && r.Timeline == timeline
                 && r.WalReceiverUpstream == $"127.0.0.1:{primary.Port}",
            $"{standby.Name} to stream from {primary.Name} on timeline {timeline}");
    }

    private static Task AwaitRowAsync(LocalInstanceDriver standby, int id) =>
        Poll.UntilAsync(() => Sql.ScalarAsync(standby.Endpoint, $"SELECT count(*) FROM t WHERE id = {id}"), n => (long)n! == 1, $"row {id} on {standby.Name}");
}
