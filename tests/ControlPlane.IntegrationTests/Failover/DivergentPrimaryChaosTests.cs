using ControlPlane.Cli;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// Mode 8 of issue 21 on real processes: the primary refuses replication connections and its WAL senders are
/// terminated, so the standbys receive nothing more; the primary commits rows and then every process of it is SIGKILLed. The tier fails
/// over and rejoins the old primary, which holds WAL the new timeline never got: it is saved and decoded before the
/// rewind, reported over gRPC (ListDivergences) and raises DivergentWalSaved. Leaves the tier converged.
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class DivergentPrimaryChaosTests(ChaosSiloFixture fixture, ITestOutputHelper output)
{
    private const int Lost = 10;
    private static readonly TimeSpan DecisionTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RejoinTimeout = TimeSpan.FromSeconds(120);
    private TierControl Tier => fixture.Tier;

    [Fact]
    public async Task An_old_primary_returning_with_commits_no_standby_received_is_rewound_after_its_divergent_wal_is_saved_and_reported()
    {
        await Tier.ResetAsync();
        await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "divergent");
        var start = scenario.Start;
        var old = start.Primary;
        var primary = await Tier.InstanceAsync(old);
        await using (var connection = await primary.OpenAsync(5, 30, CancellationToken.None))
        {
            await ExecuteAsync(connection, "DROP TABLE IF EXISTS divergent_lost; CREATE TABLE divergent_lost (id int PRIMARY KEY, note text)");
        }
        foreach (var standby in (await Tier.InstancesAsync()).Where(i => i.Name != old)) await WaitTableAsync(standby);

        // Cut the standbys (and the WAL archiver) off at the primary's door: its pg_hba.conf rejects every replication
        // connection from now on (the control plane writes that file anew before the instance's next start), its WAL
        // senders are terminated, and the commits start only once no sender has come back for a while. Freezing the
        // senders and receivers instead left a path open: a receiver that was between two connections when the pids
        // were listed connected afterwards and received the "lost" commits.
        var logMark = fixture.Logs.Lines.Count;
        var standbys = (await Tier.InstancesAsync()).Where(i => i.Name != old).ToList();
        var hba = Path.Combine(fixture.Driver(old).DataDirectory, "pg_hba.conf");
        File.WriteAllText(hba, "# chaos test: no replication connection to the old primary\nhost replication all all reject\n" + File.ReadAllText(hba));
        await using (var connection = await primary.OpenAsync(5, 30, CancellationToken.None))
        {
            await ExecuteAsync(connection, "SELECT pg_reload_conf()");
            await WaitNoWalSenderAsync(connection);
            // Asynchronous commits whatever an earlier test of the collection left in synchronous_standby_names
            // (the tier applies synchronous_mode off to the primary on its own schedule): these commits are
            // acknowledged by the old primary alone, which is the scenario.
            await ExecuteAsync(connection, "SET synchronous_commit TO local");
            for (var i = 0; i < Lost; i++) await ExecuteAsync(connection, $"INSERT INTO divergent_lost VALUES ({100 + i}, 'committed on the old primary only')");
            output.WriteLine($"{old} ({primary.Port}) flushed WAL up to {await ScalarAsync(connection, "SELECT pg_current_wal_flush_lsn()::text")}");
            Assert.Empty(await PidsAsync(connection, "SELECT pid FROM pg_stat_replication"));
        }
        output.WriteLine($"no WAL sender on {old}; committed {Lost} rows; killing every process of {old}");
        foreach (var standby in standbys)
        {
            // Where each standby stands at the kill, and what it streams from (the scenario needs: nothing).
            await using var connection = await standby.OpenAsync(5, 30, CancellationToken.None);
            output.WriteLine($"  {standby.Name} ({standby.Port}): " + await ScalarAsync(connection,
                "SELECT 'received ' || COALESCE(pg_last_wal_receive_lsn()::text, '-') || ', replayed ' || COALESCE(pg_last_wal_replay_lsn()::text, '-') || ', receiver '"
                + " || COALESCE((SELECT status || ' from ' || COALESCE(sender_host, '?') || ':' || COALESCE(sender_port::text, '?') || ' pid ' || pid FROM pg_stat_wal_receiver), 'none')"));
        }
        await fixture.Driver(old).SignalAllAsync(InstanceSignal.Kill, CancellationToken.None);

        var after = await Tier.WaitAsync(t => t.Term > start.Term, DecisionTimeout);
        Assert.NotEqual(old, after.Primary);
        var divergence = await WaitDivergenceAsync(old, start.Term);
        output.WriteLine($"{divergence.Replica}: {divergence.StartLsn}-{divergence.EndLsn} on timeline {divergence.Timeline}, {divergence.Bytes} bytes, " +
            $"{divergence.Transactions.Count} transactions ({divergence.Committed} committed), saved to {divergence.Directory}");
        foreach (var t in divergence.Transactions.Take(20))
        {
            output.WriteLine($"  {t.Xid} {t.Outcome} {t.Records} records {string.Join(", ", t.Relations.Select(r => $"{r.Relation} ({r.Records})"))}");
        }

        if (divergence.Committed < Lost)
        {
            // What the silo did between the cut and the report, and whether the new primary holds the "lost" rows.
            await using (var connection = await (await Tier.InstanceAsync(after.Primary)).OpenAsync(5, 30, CancellationToken.None))
            {
                output.WriteLine($"{after.Primary} holds {await ScalarAsync(connection, "SELECT count(*) FROM divergent_lost WHERE id >= 100")} of the rows");
            }
            foreach (var line in fixture.Logs.Lines.Skip(logMark).Where(l => l.Contains(Tier.Name, StringComparison.Ordinal)).Take(200)) output.WriteLine(line);
            foreach (var d in (await Tier.DecisionsAsync()).TakeLast(6)) output.WriteLine($"decision {d}");
        }
        Assert.True(divergence.Committed >= Lost, $"{divergence.Committed} committed transactions reported; {Lost} were written");
        Assert.True(divergence.Transactions.Count(t => t.Outcome == "committed" && t.Relations.Any(r => r.Relation.EndsWith("/divergent_lost", StringComparison.Ordinal))) >= Lost,
            "each lost insert is named by its table");
        Assert.Equal(after.Primary, divergence.NewPrimary);
        Assert.Equal(start.Term + 1, divergence.Term);
        Assert.True(Directory.Exists(divergence.Directory), divergence.Directory);
        foreach (var segment in divergence.Segments) Assert.True(File.Exists(Path.Combine(divergence.Directory, segment)), $"{segment} saved");
        Assert.True(File.Exists(Path.Combine(divergence.Directory, LocalInstanceDriver.DivergenceReportFile)));
        Assert.True(File.Exists(Path.Combine(divergence.Directory, LocalInstanceDriver.DivergenceDumpFile)));

        // The alert of this divergence (an earlier one of the same replica may still fire: it fires until silenced).
        var alert = await AlertWaits.FiringAsync(fixture.Invoker, after.Environment, "DivergentWalSaved",
            new Dictionary<string, string> { ["replica"] = old, ["range"] = $"{divergence.StartLsn}-{divergence.EndLsn}" }, DecisionTimeout);
        Assert.True(int.Parse(alert.Labels["committed"], System.Globalization.CultureInfo.InvariantCulture) >= Lost);

        // What an SRE reads: cpctl shows the range, and its JSON names the table each lost commit touched.
        var (exit, table, error) = await CpctlAsync("divergences", Tier.Name, "--replica", old);
        Assert.True(exit == 0, $"cpctl divergences exited {exit}: {error}");
        Assert.Contains($"{divergence.StartLsn}-{divergence.EndLsn}", table, StringComparison.Ordinal);
        var (jsonExit, json, jsonError) = await CpctlAsync("divergences", Tier.Name, "--replica", old, "--json");
        Assert.True(jsonExit == 0, $"cpctl divergences --json exited {jsonExit}: {jsonError}");
        Assert.Contains("/divergent_lost", json, StringComparison.Ordinal);

        var (end, _) = await scenario.FinishAsync(noLossExpected: false);
        Assert.Contains(end.Replicas, r => r.Name == old && r.Role == ReplicaRole.Standby && r.Healthy);
        await using (var connection = await (await Tier.InstanceAsync(end.Primary)).OpenAsync(5, 30, CancellationToken.None))
        {
            Assert.Equal(0L, await ScalarAsync(connection, "SELECT count(*) FROM divergent_lost WHERE id >= 100"));
        }
    }

    [Fact]
    public async Task ListDivergences_refuses_bad_names_and_an_unknown_replica()
    {
        var failover = Tier.Failover;
        var bad = await Assert.ThrowsAsync<RpcException>(() => failover.ListDivergencesAsync(new ListDivergencesRequest { Tier = "Bad Tier!" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        var badReplica = await Assert.ThrowsAsync<RpcException>(() =>
            failover.ListDivergencesAsync(new ListDivergencesRequest { Tier = Tier.Name, Replica = "no such/replica" }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, badReplica.StatusCode);
        Assert.Contains("replica", badReplica.Status.Detail, StringComparison.Ordinal);
        var unknown = await Assert.ThrowsAsync<RpcException>(() =>
            failover.ListDivergencesAsync(new ListDivergencesRequest { Tier = Tier.Name, Replica = "oltp-99" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("oltp-99", unknown.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>
    /// The divergence of this scenario's failover: a replica that was an old primary in an earlier test of the
    /// collection already has divergences of earlier terms, which must not be taken for this one.
    /// </summary>
    private async Task<Divergence> WaitDivergenceAsync(string replica, long startTerm)
    {
        var deadline = DateTime.UtcNow + RejoinTimeout;
        while (true)
        {
            var list = await Tier.Failover.ListDivergencesAsync(new ListDivergencesRequest { Tier = Tier.Name, Replica = replica }, deadline: DateTime.UtcNow.AddSeconds(10));
            if (list.Divergences.LastOrDefault(d => d.Term > startTerm) is { } found) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no divergence reported for {replica} within {RejoinTimeout}");
            await Task.Delay(500);
        }
    }

    /// <summary>Terminates the WAL senders until none has come back for 1.5 s (three of the receivers' retry intervals).</summary>
    private static async Task WaitNoWalSenderAsync(NpgsqlConnection connection)
    {
        var deadline = DateTime.UtcNow + DecisionTimeout;
        var quietSince = DateTime.UtcNow;
        while (DateTime.UtcNow - quietSince < TimeSpan.FromSeconds(1.5))
        {
            var senders = await PidsAsync(connection, "SELECT pid FROM pg_stat_replication");
            if (senders.Length > 0)
            {
                await ExecuteAsync(connection, "SELECT pg_terminate_backend(pid) FROM pg_stat_replication");
                quietSince = DateTime.UtcNow;
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"WAL senders kept coming back despite pg_hba.conf: {string.Join(", ", senders)}");
            await Task.Delay(100);
        }
    }

    private static async Task WaitTableAsync(ChaosInstance standby)
    {
        var deadline = DateTime.UtcNow + DecisionTimeout;
        while (true)
        {
            await using (var connection = await standby.OpenAsync(5, 10, CancellationToken.None))
            {
                if ((bool)(await ScalarAsync(connection, "SELECT to_regclass('divergent_lost') IS NOT NULL"))!) return;
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"divergent_lost never reached {standby.Name}");
            await Task.Delay(100);
        }
    }

    private async Task<(int Exit, string Stdout, string Stderr)> CpctlAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CpctlApp.RunAsync([.. args, "--endpoint", fixture.Endpoint.GetLeftPart(UriPartial.Authority), "--token-file", Path.Combine(fixture.DataDirectory, "admin.token")],
            stdout, stderr, CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static async Task<int[]> PidsAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var pids = new List<int>();
        while (await reader.ReadAsync()) pids.Add(reader.GetInt32(0));
        return [.. pids];
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
