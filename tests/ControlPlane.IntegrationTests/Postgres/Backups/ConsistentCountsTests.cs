using ControlPlane.IntegrationTests.Postgres.Failover;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Fleet;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Postgres.Backups;

[Collection(DrillPrimaryCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class ConsistentCountsTests(DrillPrimaryFixture fixture)
{
    private const string OtherDatabase = "counts_other";
    private static readonly CancellationToken None = CancellationToken.None;

    private ReplicaEndpoint Primary => fixture.Primary.Endpoint;
    private ReplicaEndpoint Other => Primary with { Database = OtherDatabase };

    [Fact]
    public async Task Counts_captured_under_concurrent_writers_equal_a_restore_to_their_restore_point()
    {
        await CreateWrittenTablesAsync();
        using var stop = new CancellationTokenSource();
        var written = new long[1];
        var writers = new[]
        {
            // Two tables in one transaction: a count that split it would show.
            WriteAsync(Primary, "INSERT INTO counts_orders (v) VALUES (1); INSERT INTO counts_lines (v) VALUES (1)", written, stop.Token),
            WriteAsync(Primary, "INSERT INTO counts_lines (v) VALUES (2)", written, stop.Token),
            WriteAsync(Other, "INSERT INTO counts_events (v) VALUES (3)", written, stop.Token),
        };
        ConsistentCountsResult captured;
        long primaryLinesAfter;
        await using (var copy = await PointInTimeCopy.BaseBackupAsync(fixture))
        {
            try
            {
                await WaitForWritesAsync(written, 100);
                captured = await ConsistentCounts.CaptureAsync(Primary, "counts_exact", tablesPerDatabase: 10, TimeSpan.FromSeconds(5), None);
                await WaitForWritesAsync(written, 100);
            }
            finally
            {
                await stop.CancelAsync();
                await Task.WhenAll(writers);
            }
            primaryLinesAfter = (long)(await Sql.ScalarAsync(Primary, "SELECT count(*) FROM counts_lines"))!;
            await copy.ArchiveWalAsync();
            var restored = await copy.RecoverToAsync(captured.RestorePoint);

            var found = await ConsistentCounts.CountAsync(restored.Endpoint, captured.Counts, None);

            Assert.Equal(captured.Counts, found);
        }
        var rows = captured.Counts.ToDictionary(c => $"{c.Database}.{c.Table}", c => c.Rows);
        Assert.All(["postgres.public.counts_orders", "postgres.public.counts_lines", $"{OtherDatabase}.public.counts_events"],
            table => Assert.True(rows.GetValueOrDefault(table) > 0, $"{table} was not captured with rows: {string.Join(", ", rows)}"));
        Assert.True(primaryLinesAfter > captured.Counts.Single(c => c.Table == "public.counts_lines").Rows,
            "the writers went on after the capture, so the restore point lies before the end of the WAL");
    }

    [Fact]
    public async Task Capture_gives_up_naming_the_database_when_a_writer_holds_a_table_past_the_lock_timeout()
    {
        await Sql.ScalarAsync(Primary, "CREATE TABLE IF NOT EXISTS counts_held (v int)");
        await using var writer = await Sql.OpenAsync(Primary);
        await using var tx = await writer.BeginTransactionAsync();
        await ExecuteAsync(writer, "INSERT INTO counts_held VALUES (1)");

        var e = await Assert.ThrowsAsync<TimeoutException>(() =>
            ConsistentCounts.CaptureAsync(Primary, "counts_never", tablesPerDatabase: 1000, TimeSpan.FromMilliseconds(100), None));

        Assert.Contains("database 'postgres'", e.Message, StringComparison.Ordinal);
        Assert.Contains("No restore point 'counts_never' was created", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_writer_in_a_deadlock_with_the_capture_is_never_its_victim()
    {
        await Sql.ScalarAsync(Primary, "DROP TABLE IF EXISTS counts_dl_big, counts_dl_small; "
            + "CREATE TABLE counts_dl_big (v int); INSERT INTO counts_dl_big SELECT generate_series(1, 1000); CREATE TABLE counts_dl_small (v int)");
        await using var holder = await Sql.OpenAsync(Primary);
        await using var holderTx = await holder.BeginTransactionAsync();
        await ExecuteAsync(holder, "INSERT INTO counts_dl_big VALUES (0)");
        // The capture locks the largest table first and queues behind the holder there.
        var capture = ConsistentCounts.CaptureAsync(Primary, "counts_deadlock", tablesPerDatabase: 1000, TimeSpan.FromSeconds(60), None);
        await UntilWaitingAsync("counts_dl_big", "ShareLock");
        // The writer takes the small table, then queues behind the capture for the big one...
        await using var writer = await Sql.OpenAsync(Primary);
        await using var writerTx = await writer.BeginTransactionAsync();
        await ExecuteAsync(writer, "INSERT INTO counts_dl_small VALUES (1)");
        var writerInsert = ExecuteAsync(writer, "INSERT INTO counts_dl_big VALUES (1)");
        // Usually the writer now queues behind the capture's request; on a loaded machine the capture may be between
        // two attempts (it backs off rather than wait while holding locks), and the writer goes through at once.
        // Either way the writer must not become a deadlock victim and the counts must be exact.
        await Poll.UntilAsync(
            async () => writerInsert.IsCompleted || (long)(await Sql.ScalarAsync(Primary,
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'counts_dl_big'::regclass AND mode = 'RowExclusiveLock'"))! > 0,
            queued => queued, "the writer to queue for counts_dl_big or to go through");
        // ...so when the holder goes, the capture gets the big table and needs the small one the writer holds.
        await holderTx.CommitAsync();

        await writerInsert;
        await writerTx.CommitAsync();
        var captured = await capture;

        Assert.Equal(1002L, captured.Counts.Single(c => c.Table == "public.counts_dl_big").Rows);
        Assert.Equal(1L, captured.Counts.Single(c => c.Table == "public.counts_dl_small").Rows);
    }

    [Fact]
    public async Task A_table_or_database_missing_on_the_counted_instance_counts_minus_one()
    {
        TableCount[] expected = [new("postgres", "public.counts_no_such_table", 5), new("counts_no_such_db", "public.t", 7)];

        var found = await ConsistentCounts.CountAsync(Primary, expected, None);

        Assert.Equal([-1L, -1L], found.Select(c => c.Rows));
    }

    private async Task CreateWrittenTablesAsync()
    {
        if ((long)(await Sql.ScalarAsync(Primary, $"SELECT count(*) FROM pg_database WHERE datname = '{OtherDatabase}'"))! == 0)
        {
            await Sql.ScalarAsync(Primary, $"CREATE DATABASE {OtherDatabase}");
        }
        await Sql.ScalarAsync(Primary, "CREATE TABLE IF NOT EXISTS counts_orders (id bigserial PRIMARY KEY, v int); "
            + "CREATE TABLE IF NOT EXISTS counts_lines (id bigserial PRIMARY KEY, v int)");
        await Sql.ScalarAsync(Other, "CREATE TABLE IF NOT EXISTS counts_events (id bigserial PRIMARY KEY, v int)");
    }

    private async Task UntilWaitingAsync(string table, string mode) =>
        await Poll.UntilAsync(
            async () => (long)(await Sql.ScalarAsync(Primary,
                $"SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = '{table}'::regclass AND mode = '{mode}'"))!,
            n => n > 0, $"a {mode} request on {table} to wait");

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Runs <paramref name="sql"/> in a loop (a transaction each) until stopped.</summary>
    private static async Task WriteAsync(ReplicaEndpoint endpoint, string sql, long[] written, CancellationToken stop)
    {
        await using var connection = await Sql.OpenAsync(endpoint);
        while (!stop.IsCancellationRequested)
        {
            await using var tx = await connection.BeginTransactionAsync(CancellationToken.None);
            await using (var cmd = new NpgsqlCommand(sql, connection, tx)) await cmd.ExecuteNonQueryAsync(CancellationToken.None);
            await tx.CommitAsync(CancellationToken.None);
            Interlocked.Increment(ref written[0]);
        }
    }

    private static async Task WaitForWritesAsync(long[] written, long more)
    {
        var target = Interlocked.Read(ref written[0]) + more;
        await Poll.UntilAsync(() => Task.FromResult(Interlocked.Read(ref written[0])), n => n >= target, $"{more} more writes");
    }
}
