using ControlPlane.Grains.Telemetry;
using ControlPlane.Protos.V1;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Monitoring;

/// <summary>
/// The server-activity families on the real fleet: each signal is caused on the primary (a sort spilling to disk, a
/// CHECKPOINT, a burst of writes, a partitioned table, deleted rows) and read back from the silo's /metrics endpoint.
/// </summary>
[Collection(MonitoringCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class MetricFamiliesTests(MonitoringSiloFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    /// <summary>The primary's exported value of a rule metric (and extra labels), polled until <paramref name="condition"/> holds.</summary>
    private async Task<double> WaitForExportedAsync(string metric, Func<double, bool> condition, IReadOnlyDictionary<string, string>? labels = null)
    {
        var name = ReadingMetrics.PrometheusName(metric);
        var deadline = DateTime.UtcNow + Patience;
        double? last = null;
        while (DateTime.UtcNow < deadline)
        {
            var samples = await PrometheusScrape.ReadAsync(fixture.Silo.MetricsEndpoint);
            var sample = samples.FirstOrDefault(s => s.Name == name && s.Labels.GetValueOrDefault("replica") == MonitoringSiloFixture.Primary
                && (labels ?? new Dictionary<string, string>()).All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value));
            last = sample?.Value;
            if (sample is not null && condition(sample.Value)) return sample.Value;
            await Task.Delay(500);
        }
        throw new TimeoutException($"{name} of {MonitoringSiloFixture.Primary} did not reach the expected value in {Patience}; last {last?.ToString() ?? "absent"}");
    }

    private async Task<double> HistoryMaxAsync(string metric)
    {
        var history = await fixture.Monitoring.GetMetricHistoryAsync(new GetMetricHistoryRequest
        {
            Tier = MonitoringSiloFixture.TierName, Replica = MonitoringSiloFixture.Primary, Metric = metric,
        });
        return history.Points.Select(p => p.Max).DefaultIfEmpty(0).Max();
    }

    [Fact]
    public async Task A_sort_spilling_past_a_small_work_mem_raises_the_exported_temp_files_and_bytes()
    {
        var files = await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.TempFiles, _ => true);
        var bytes = await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.TempBytes, _ => true);
        await using var db = await fixture.OpenPrimaryAsync("mon-temp");
        await MonitoringSiloFixture.ExecuteAsync(db,
            "SET work_mem = '64kB'; SELECT count(*) FROM (SELECT g, md5(g::text) FROM generate_series(1, 200000) g ORDER BY 2) s");

        await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.TempFiles, v => v > files);
        await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.TempBytes, v => v >= bytes + 1024 * 1024);
        await WaitAsync(async () => await HistoryMaxAsync(Grains.Monitoring.MonitoringMetrics.TempBytesPerSecond) > 0);
    }

    [Fact]
    public async Task A_checkpoint_is_counted_as_a_requested_one()
    {
        var requested = await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.CheckpointsRequested, _ => true);
        await using var db = await fixture.OpenPrimaryAsync("mon-checkpoint");
        await MonitoringSiloFixture.ExecuteAsync(db, "CHECKPOINT");

        await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.CheckpointsRequested, v => v > requested);
        await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.CheckpointWriteSeconds, v => v >= 0);
    }

    [Fact]
    public async Task Writes_advance_the_wal_position_and_show_as_a_wal_rate()
    {
        var position = await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.WalBytes, _ => true);
        await using var db = await fixture.OpenPrimaryAsync("mon-wal");
        await MonitoringSiloFixture.ExecuteAsync(db, """
            CREATE TABLE IF NOT EXISTS mon_wal (id bigserial PRIMARY KEY, payload text);
            INSERT INTO mon_wal (payload) SELECT repeat('w', 200) FROM generate_series(1, 20000);
            """);

        await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.WalBytes, v => v >= position + 2 * 1024 * 1024);
        await WaitAsync(async () => await HistoryMaxAsync(Grains.Monitoring.MonitoringMetrics.WalBytesPerSecond) > 0);
    }

    [Fact]
    public async Task A_partitioned_table_is_exported_with_its_partitions_and_rows_in_its_default_partition_fire_an_alert_until_moved()
    {
        await using var db = await fixture.OpenPrimaryAsync("mon-partitions");
        await MonitoringSiloFixture.ExecuteAsync(db, """
            CREATE TABLE mon_events (at date NOT NULL, note text) PARTITION BY RANGE (at);
            CREATE TABLE mon_events_2026_11 PARTITION OF mon_events FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
            CREATE TABLE mon_events_2026_12 PARTITION OF mon_events FOR VALUES FROM ('2026-12-01') TO ('2027-01-01');
            CREATE TABLE mon_events_default PARTITION OF mon_events DEFAULT;
            INSERT INTO mon_events SELECT DATE '2026-12-01' + (g % 20), 'in range' FROM generate_series(1, 50) g;
            INSERT INTO mon_events SELECT DATE '2027-01-01' + (g % 5), 'next month: its partition is missing' FROM generate_series(1, 7) g;
            """);
        var parent = new Dictionary<string, string> { ["parent"] = "public.mon_events" };

        Assert.Equal(3, await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.Partitions, v => v == 3, parent));
        await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.PartitionDefaultRows, v => v == 7, parent);
        await WaitAsync(async () => (await fixture.Alerts.ListAlertsAsync(new ListAlertsRequest())).Alerts
            .Any(a => a.Rule == "PartitionDefaultHasRows" && a.State == "firing" && a.Labels["parent"] == "public.mon_events" && a.Labels["replica"] == MonitoringSiloFixture.Primary));

        // Creating the missing partition moves nothing by itself: the rows are moved out of the default, then the alert resolves.
        await MonitoringSiloFixture.ExecuteAsync(db, """
            BEGIN;
            CREATE TABLE mon_events_2027_01 (LIKE mon_events);
            INSERT INTO mon_events_2027_01 SELECT * FROM mon_events_default;
            DELETE FROM mon_events_default;
            ALTER TABLE mon_events ATTACH PARTITION mon_events_2027_01 FOR VALUES FROM ('2027-01-01') TO ('2027-02-01');
            COMMIT;
            """);
        await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.Partitions, v => v == 4, parent);
        await WaitAsync(async () => !(await fixture.Alerts.ListAlertsAsync(new ListAlertsRequest())).Alerts
            .Any(a => a.Rule == "PartitionDefaultHasRows" && a.Labels["parent"] == "public.mon_events"));
    }

    [Fact]
    public async Task A_time_range_scheme_whose_newest_partition_ends_within_a_week_fires_PartitionRangeEndingSoon_until_the_next_partition_is_added()
    {
        await using var db = await fixture.OpenPrimaryAsync("mon-partition-range");
        await MonitoringSiloFixture.ExecuteAsync(db, "CREATE TABLE mon_readings (at timestamptz NOT NULL, value double precision) PARTITION BY RANGE (at)");
        // Bounds relative to the server's clock: the newest partition ends in three days.
        await ExecuteFormattedAsync(db, """
            SELECT format('CREATE TABLE mon_readings_now PARTITION OF mon_readings FOR VALUES FROM (%L) TO (%L)',
                          date_trunc('day', now()) - interval '1 day', date_trunc('day', now()) + interval '3 days')
            """);
        var parent = new Dictionary<string, string> { ["parent"] = "public.mon_readings" };
        var end = await ScalarAsync<long>(db, "SELECT extract(epoch FROM date_trunc('day', now()) + interval '3 days')::bigint");

        var daysLeft = await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.PartitionRangeDaysLeft, v => v < 7, parent);
        Assert.InRange(daysLeft, 1.9, 3.1);
        Assert.Equal(end, await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.PartitionRangeEndSeconds, _ => true, parent));
        await WaitAsync(async () => (await fixture.Alerts.ListAlertsAsync(new ListAlertsRequest())).Alerts
            .Any(a => a.Rule == "PartitionRangeEndingSoon" && a.State == "firing" && a.Labels["parent"] == "public.mon_readings"
                && a.Labels["replica"] == MonitoringSiloFixture.Primary && a.Value < 7));

        // The next month's partition moves the end 30 days further out: the reading no longer breaches and the alert resolves.
        await ExecuteFormattedAsync(db, """
            SELECT format('CREATE TABLE mon_readings_next PARTITION OF mon_readings FOR VALUES FROM (%L) TO (%L)',
                          date_trunc('day', now()) + interval '3 days', date_trunc('day', now()) + interval '33 days')
            """);
        await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.PartitionRangeDaysLeft, v => v > 30, parent);
        await WaitAsync(async () => !(await fixture.Alerts.ListAlertsAsync(new ListAlertsRequest())).Alerts
            .Any(a => a.Rule == "PartitionRangeEndingSoon" && a.Labels["parent"] == "public.mon_readings"));
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection db, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, db);
        return (T)(await cmd.ExecuteScalarAsync())!;
    }

    /// <summary>Runs the DDL statement <paramref name="sql"/> renders (format() quotes the bounds; DDL takes no parameters).</summary>
    private static async Task ExecuteFormattedAsync(NpgsqlConnection db, string sql) =>
        await MonitoringSiloFixture.ExecuteAsync(db, await ScalarAsync<string>(db, sql));

    [Fact]
    public async Task Deleted_rows_left_in_place_show_as_table_and_index_bloat()
    {
        await using var db = await fixture.OpenPrimaryAsync("mon-bloat");
        await MonitoringSiloFixture.ExecuteAsync(db, """
            CREATE TABLE mon_bloated (id int PRIMARY KEY, payload text) WITH (autovacuum_enabled = false);
            INSERT INTO mon_bloated SELECT g, repeat('b', 60) FROM generate_series(1, 100000) g;
            DELETE FROM mon_bloated WHERE id % 10 <> 0;
            """);
        await MonitoringSiloFixture.ExecuteAsync(db, "VACUUM ANALYZE mon_bloated");
        long tableBytes, indexBytes;
        await using (var cmd = new NpgsqlCommand("SELECT pg_relation_size('mon_bloated'), pg_relation_size('mon_bloated_pkey')", db))
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            (tableBytes, indexBytes) = (reader.GetInt64(0), reader.GetInt64(1));
        }

        // Nine rows in ten are gone but their pages stay (no page was emptied at the end for VACUUM to truncate).
        await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.TableBloatBytes, v => v >= 0.6 * tableBytes);
        await WaitForExportedAsync(Grains.Monitoring.MonitoringMetrics.IndexBloatBytes, v => v >= 0.5 * indexBytes);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the condition did not hold within {Patience}");
            await Task.Delay(500);
        }
    }
}
