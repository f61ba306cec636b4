using System.Text;
using ControlPlane.IntegrationTests.Failover;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Consistency;

/// <summary>
/// Replica consistency on the real local fleet (tier <c>content</c>: a primary and one streaming standby). The tables
/// are the tests' own (<c>consistency_it_*</c>); each test leaves the tier consistent and healthy behind it.
/// </summary>
[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class ConsistencyTests(SiloFixture fixture)
{
    private const string TierName = "content";

    private ConsistencyService.ConsistencyServiceClient Consistency => new(fixture.Invoker(fixture.AdminToken));

    [Fact]
    public async Task A_standby_under_write_load_compares_equal_with_its_primary()
    {
        var primary = await PrimaryAsync();
        await ExecuteAsync(primary, """
            DROP TABLE IF EXISTS consistency_it_orders, consistency_it_nokey;
            CREATE TABLE consistency_it_orders (id bigint PRIMARY KEY, tenant text NOT NULL, amount numeric NOT NULL, at timestamptz NOT NULL);
            INSERT INTO consistency_it_orders SELECT g, 'tenant-' || (g % 7), g * 1.25, '2026-01-01'::timestamptz + g * interval '1 minute' FROM generate_series(1, 5000) g;
            CREATE TABLE consistency_it_nokey (v text);
            INSERT INTO consistency_it_nokey SELECT 'v' || g FROM generate_series(1, 100) g;
            """ + AckedWriter.CreateTableSql);
        // An independent writer keeps committing to chaos_writes through the gateway's routing while the check runs.
        await using var writer = AckedWriter.Start(new FailoverService.FailoverServiceClient(fixture.Invoker(fixture.AdminToken)), TierName, PasswordFile, "consistency-" + Guid.NewGuid().ToString("N")[..6]);
        await writer.WaitForAcksAsync(20, TimeSpan.FromMinutes(1));

        var report = await CheckAsync("consistency_it_orders", "public.consistency_it_nokey", "chaos_writes");
        await writer.WaitForAcksAsync(20, TimeSpan.FromMinutes(1));
        await writer.StopAsync();

        Assert.True(report.Consistent, report.ToString());
        var standby = Assert.Single(report.Standbys);
        Assert.Equal("", standby.Error);
        var orders = report.Tables.Single(t => t.Table == "public.consistency_it_orders");
        Assert.Equal(ConsistencyTableMode.KeyRanges, orders.Mode);
        Assert.Equal(5000, orders.Primary.Rows);
        Assert.Equal(orders.Primary.Checksum, Assert.Single(orders.Standbys).Checksum);
        var writes = report.Tables.Single(t => t.Table == "public.chaos_writes");
        Assert.Equal(ConsistencyTableMode.WholeTable, writes.Mode);
        Assert.True(writes.Primary.Rows >= 20);
        Assert.Equal(writes.Primary.Rows, Assert.Single(writes.Standbys).Rows);
        var nokey = report.Tables.Single(t => t.Table == "public.consistency_it_nokey");
        Assert.Equal(ConsistencyTableMode.NoPrimaryKey, nokey.Mode);
        Assert.Contains("no primary key", nokey.Warning, StringComparison.Ordinal);
        Assert.Contains(report.Warnings, w => w.Contains("consistency_it_nokey", StringComparison.Ordinal));
        Assert.True(report.RowsCompared >= 2 * 5100);

        var last = await Consistency.GetConsistencyReportAsync(new GetConsistencyReportRequest { Tier = TierName });
        Assert.Equal(report.Lsn, last.Lsn);
    }

    /// <summary>
    /// The fault is real: the standby is read-only, so its data file is changed while it is stopped. The table is
    /// frozen (no hint-bit write will log a page image later) and the primary checkpointed, so the standby's shutdown
    /// restartpoint lies after every record touching the table and its redo cannot repair the page. One tuple's text
    /// is changed in place, same length, in the file <c>pg_relation_filepath</c> names; the fleet runs with data
    /// checksums (initdb --data-checksums), so <c>pg_checksums --disable</c> then <c>--enable</c> rewrites the
    /// checksums of the stopped standby before it starts again: the page reads back without a checksum error, with
    /// the changed row. Afterwards an UPDATE of the row on the primary replays onto the standby and repairs it.
    /// </summary>
    [Fact]
    public async Task A_row_changed_in_a_standbys_data_file_is_reported_as_a_mismatch_with_its_key_range()
    {
        // Another test of the collection may have just switched the tier over and back: its standby must be streaming
        // (not rejoining) before this one stops it.
        await fixture.WaitForTierAsync(TierName, t => t.Health == TierHealth.Healthy, TimeSpan.FromMinutes(2));
        var primary = await PrimaryAsync();
        await ExecuteAsync(primary, """
            DROP TABLE IF EXISTS consistency_it_tampered;
            CREATE TABLE consistency_it_tampered (id int PRIMARY KEY, note text NOT NULL);
            INSERT INTO consistency_it_tampered SELECT g, 'row-' || lpad(g::text, 6, '0') FROM generate_series(1, 2000) g;
            """);
        await ExecuteAsync(primary, "VACUUM (FREEZE) consistency_it_tampered");
        await ExecuteAsync(primary, "CHECKPOINT");
        var relationPath = (string)(await ScalarAsync(primary, "SELECT pg_relation_filepath('consistency_it_tampered')"))!;
        // Equal before the fault; the check also waits until the standby has replayed the checkpoint.
        Assert.True((await CheckAsync("consistency_it_tampered")).Consistent);

        var tier = await fixture.Fleet.GetTierAsync(new GetTierRequest { Tier = TierName });
        var standbyName = tier.Replicas.Single(r => r.Name != tier.Primary).Name;
        var standby = fixture.Silo.Instances.LocalFleet!.Driver(TierName, standbyName);
        // The tier heals a standby unreachable for 2 × failure_threshold probes by starting it again: with the highest
        // threshold it cannot do so while the file is being changed (a pause stops failovers, not healing).
        var control = new TierControl(fixture.Fleet, new FailoverService.FailoverServiceClient(fixture.Invoker(fixture.AdminToken)), TierName, PasswordFile);
        var settings = await control.ChangeSettingsAsync(s => s.FailureThreshold = 100);
        try
        {
            await standby.StopAsync(StopMode.Fast, CancellationToken.None);
            try
            {
                FlipRowText(Path.Combine(standby.DataDirectory, relationPath), "row-000777", "ROW-000777");
                await ChecksumsAsync(standby.DataDirectory, "--disable");
                await ChecksumsAsync(standby.DataDirectory, "--enable");
            }
            finally
            {
                await standby.StartAsync(CancellationToken.None);
            }
            // The tier must see the standby back before the threshold drops again: the failure count of its stop
            // would otherwise make the restored threshold heal (stop and restart) a standby that already runs, and
            // the check would find it unreachable.
            await fixture.WaitForTierAsync(TierName, t => t.Replicas.Single(r => r.Name == standbyName) is { Healthy: true, Reachable: true }, TimeSpan.FromMinutes(2));
        }
        finally
        {
            await control.Failover.SetFailoverSettingsAsync(new SetFailoverSettingsRequest { Tier = TierName, Settings = settings });
        }
        await fixture.WaitForTierAsync(TierName, t => t.Health == TierHealth.Healthy, TimeSpan.FromMinutes(2));

        var report = await CheckAsync("consistency_it_tampered");

        Assert.False(report.Consistent);
        var table = Assert.Single(report.Tables);
        var mismatch = Assert.Single(table.Mismatches);
        Assert.Equal(standbyName, mismatch.Replica);
        Assert.Equal("[777, 778)", mismatch.Range);
        Assert.Equal(777, mismatch.From);
        Assert.Equal(778, mismatch.To);
        Assert.Equal(1, mismatch.PrimaryRows);
        Assert.Equal(1, mismatch.ReplicaRows);
        var alert = await WaitForAlertAsync(a => a.Rule == "ReplicaDataMismatch" && a.Labels["table"] == "public.consistency_it_tampered");
        Assert.Equal("[777, 778)", alert.Labels["ranges"]);
        Assert.Equal(standbyName, alert.Labels["replica"]);
        Assert.Equal("critical", alert.Severity);

        // Repair through replication, then the check is clean and the alert resolves.
        await ExecuteAsync(primary, "UPDATE consistency_it_tampered SET note = note WHERE id = 777");
        Assert.True((await CheckAsync("consistency_it_tampered")).Consistent);
        await WaitForAlertAsync(null);
        await ExecuteAsync(primary, "DROP TABLE consistency_it_tampered");
    }

    [Fact]
    public async Task An_unknown_table_is_refused_with_invalid_argument_naming_it()
    {
        var request = new CheckConsistencyRequest { Tier = TierName };
        request.Tables.Add("no_such_table");

        var e = await Assert.ThrowsAsync<RpcException>(async () => await Consistency.CheckConsistencyAsync(request));

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("'no_such_table'", e.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cpctl_consistency_prints_the_verdict_and_exits_non_zero_for_an_unknown_table()
    {
        await ExecuteAsync(await PrimaryAsync(), """
            CREATE TABLE IF NOT EXISTS consistency_it_cli (id int PRIMARY KEY, v text);
            INSERT INTO consistency_it_cli SELECT g, 'v' || g FROM generate_series(1, 10) g ON CONFLICT DO NOTHING;
            """);

        var (ok, okOut, _) = await CpctlAsync("consistency", TierName, "--tables", "consistency_it_cli");
        var (bad, _, badErr) = await CpctlAsync("consistency", TierName, "--tables", "nope");

        Assert.Equal(0, ok);
        Assert.Contains("CONSISTENT", okOut, StringComparison.Ordinal);
        Assert.Equal(1, bad);
        Assert.Contains("INVALID_ARGUMENT", badErr, StringComparison.Ordinal);
        Assert.Contains("'nope'", badErr, StringComparison.Ordinal);
    }

    private async Task<ConsistencyReport> CheckAsync(params string[] tables)
    {
        var request = new CheckConsistencyRequest { Tier = TierName };
        request.Tables.AddRange(tables);
        return await Consistency.CheckConsistencyAsync(request, deadline: DateTime.UtcNow.AddMinutes(5));
    }

    /// <summary>Waits (bounded) until a matching alert is active, or with null until no ReplicaDataMismatch alert of the test's table is.</summary>
    private async Task<Alert> WaitForAlertAsync(Func<Alert, bool>? match)
    {
        var monitoring = new AlertService.AlertServiceClient(fixture.Invoker(fixture.AdminToken));
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            var alerts = (await monitoring.ListAlertsAsync(new ListAlertsRequest())).Alerts;
            if (match is not null && alerts.FirstOrDefault(match) is { } found) return found;
            if (match is null && !alerts.Any(a => a.Rule == "ReplicaDataMismatch" && a.Labels["table"] == "public.consistency_it_tampered")) return new Alert();
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"alerts did not reach the expected state: {alerts}");
            await Task.Delay(200);
        }
    }

    /// <summary>Replaces the one occurrence of <paramref name="from"/> in the file with <paramref name="to"/> (same length), in place.</summary>
    private static void FlipRowText(string file, string from, string to)
    {
        var bytes = File.ReadAllBytes(file);
        var needle = Encoding.ASCII.GetBytes(from);
        var at = bytes.AsSpan().IndexOf(needle);
        Assert.True(at >= 0, $"'{from}' not found in {file}");
        Assert.True(bytes.AsSpan(at + 1).IndexOf(needle) < 0, $"'{from}' occurs more than once in {file}");
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Write);
        stream.Position = at;
        stream.Write(Encoding.ASCII.GetBytes(to));
    }

    private static Task ChecksumsAsync(string dataDirectory, string mode) =>
        ProcessRunner.RunCheckedAsync(new ProcessSpec(PgBinaries.Shared.Tool("pg_checksums"), [mode, "-D", dataDirectory]) { AsPostgres = true }, CancellationToken.None);

    private async Task<(int Exit, string Out, string Err)> CpctlAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await ControlPlane.Cli.CpctlApp.RunAsync([.. args, "--endpoint", fixture.Endpoint, "--token-file", fixture.AdminTokenFile], stdout, stderr, CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private string PasswordFile => fixture.Silo.Instances.LocalFleet!.Options.SuperuserPasswordFile(TierName);

    private async Task<ChaosInstance> PrimaryAsync()
    {
        var tier = await fixture.Fleet.GetTierAsync(new GetTierRequest { Tier = TierName });
        var primary = tier.Replicas.Single(r => r.Name == tier.Primary);
        return new ChaosInstance(primary.Name, primary.Host, primary.Port, PasswordFile);
    }

    private static async Task ExecuteAsync(ChaosInstance instance, string sql)
    {
        await using var connection = await instance.OpenAsync(10, 120, CancellationToken.None);
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(ChaosInstance instance, string sql)
    {
        await using var connection = await instance.OpenAsync(10, 120, CancellationToken.None);
        await using var cmd = new NpgsqlCommand(sql, connection);
        return await cmd.ExecuteScalarAsync();
    }
}
