using ControlPlane.Protos.V1;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Monitoring;

/// <summary>Sampling on the real local fleet: statements, regressions, index advice and lock chains of the primary.</summary>
[Collection(MonitoringCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class PerformanceTests(MonitoringSiloFixture fixture)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_query_made_slow_by_a_grown_table_is_a_regression_with_missing_index_advice()
    {
        await using var db = await fixture.OpenPrimaryAsync();
        await MonitoringSiloFixture.ExecuteAsync(db, """
            CREATE TABLE mon_orders (id bigserial PRIMARY KEY, customer int NOT NULL, note text);
            INSERT INTO mon_orders (customer, note) SELECT g % 50, 'n' FROM generate_series(1, 100) g;
            """);
        async Task Lookups()
        {
            for (var i = 0; i < 20; i++)
            {
                await using var cmd = new NpgsqlCommand("SELECT count(*) FROM mon_orders WHERE customer = $1", db) { Parameters = { new() { Value = i % 50 } } };
                await cmd.ExecuteScalarAsync();
            }
        }

        // While the table is small the lookup is fast: the baseline learns that over a few heavy samples.
        var learned = new HashSet<Google.Protobuf.WellKnownTypes.Timestamp>();
        await fixture.WaitForPerformanceAsync(p =>
        {
            if (Lookup(p) is { BaselineMeanMs: > 0 }) learned.Add(p.HeavySampledAt);
            return learned.Count >= 3;
        }, Patience, Lookups);
        await MonitoringSiloFixture.ExecuteAsync(db, "INSERT INTO mon_orders (customer, note) SELECT g % 50, repeat('x', 40) FROM generate_series(1, 400000) g");

        var report = await fixture.WaitForPerformanceAsync(
            p => Lookup(p) is { Regressed: true } && p.Advice.Any(a => a.Kind == "add-missing-index" && a.Table == "mon_orders"),
            Patience, Lookups);
        var lookup = Lookup(report)!;
        Assert.True(lookup.IntervalMeanMs >= 5 * lookup.BaselineMeanMs, $"interval mean {lookup.IntervalMeanMs} vs baseline {lookup.BaselineMeanMs}");
        Assert.Same(lookup, report.Statements.First(s => s.Regressed));
        var advice = report.Advice.Single(a => a.Kind == "add-missing-index" && a.Table == "mon_orders");
        Assert.Equal(["customer"], advice.Columns);
        Assert.Equal("CREATE INDEX CONCURRENTLY ON public.mon_orders (customer);", advice.Command);
        Assert.Contains(report.SeqScanTables, t => t.Table == "mon_orders" && t.LiveRows >= 10_000);
    }

    [Fact]
    public async Task Unused_and_duplicate_indexes_are_reported_with_the_commands_to_drop_them()
    {
        await using var db = await fixture.OpenPrimaryAsync();
        await MonitoringSiloFixture.ExecuteAsync(db, """
            CREATE TABLE mon_items (id int PRIMARY KEY, sku int, colour text);
            CREATE INDEX mon_items_colour ON mon_items (colour);
            CREATE INDEX mon_items_sku ON mon_items (sku);
            CREATE INDEX mon_items_sku_again ON mon_items (sku);
            INSERT INTO mon_items SELECT g, g, 'red' FROM generate_series(1, 1000) g;
            """);
        await using (var cmd = new NpgsqlCommand("SET enable_seqscan = off; SELECT count(*) FROM mon_items WHERE sku = 5", db)) await cmd.ExecuteScalarAsync();

        var report = await fixture.WaitForPerformanceAsync(
            p => p.Advice.Any(a => a.Index == "mon_items_colour") && p.Advice.Any(a => a.Kind == "drop-duplicate-index" && a.Table == "mon_items"), Patience);
        var unused = report.Advice.Single(a => a.Index == "mon_items_colour");
        Assert.Equal("drop-unused-index", unused.Kind);
        Assert.Equal("DROP INDEX CONCURRENTLY public.mon_items_colour;", unused.Command);
        var duplicate = report.Advice.Single(a => a.Kind == "drop-duplicate-index" && a.Table == "mon_items");
        Assert.StartsWith("DROP INDEX CONCURRENTLY public.mon_items_sku", duplicate.Command, StringComparison.Ordinal);
        Assert.DoesNotContain(report.Advice, a => a.Index == "mon_items_pkey");
    }

    [Fact]
    public async Task A_blocked_session_chain_shows_its_blocker_and_the_awaited_lock()
    {
        await using var blocker = await fixture.OpenPrimaryAsync("mon-blocker");
        await using var waiter = await fixture.OpenPrimaryAsync("mon-waiter");
        await MonitoringSiloFixture.ExecuteAsync(blocker, "CREATE TABLE IF NOT EXISTS mon_locked (id int)");
        await MonitoringSiloFixture.ExecuteAsync(blocker, "BEGIN; LOCK TABLE mon_locked IN ACCESS EXCLUSIVE MODE");
        var blockerPid = blocker.ProcessID;
        var waiting = Task.Run(async () =>
        {
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM mon_locked", waiter) { CommandTimeout = 120 };
            return await cmd.ExecuteScalarAsync();
        });
        try
        {
            var report = await fixture.WaitForPerformanceAsync(p => p.LockChains.Any(c => c.BlockerPid == blockerPid && c.Sessions.Count >= 2), Patience);
            var chain = report.LockChains.Single(c => c.BlockerPid == blockerPid);
            var root = chain.Sessions[0];
            Assert.Equal(0, root.Depth);
            Assert.Equal("mon-blocker", root.ApplicationName);
            Assert.Contains(root.Locks, l => l.StartsWith("AccessExclusiveLock relation", StringComparison.Ordinal) && l.EndsWith("mon_locked", StringComparison.Ordinal));
            var blocked = chain.Sessions.Single(s => s.Pid == waiter.ProcessID);
            Assert.Equal(1, blocked.Depth);
            Assert.Equal([blockerPid], blocked.BlockedBy);
            Assert.Contains(blocked.Locks, l => l == "waits AccessShareLock relation mon_locked");
        }
        finally
        {
            await MonitoringSiloFixture.ExecuteAsync(blocker, "ROLLBACK");
            await waiting;
        }
    }

    [Fact]
    public async Task Pg_stat_statements_is_installed_on_the_local_fleet_and_cheap_facts_are_sampled()
    {
        var report = await fixture.WaitForPerformanceAsync(p => p.HeavySampledAt is not null && p.CheapSampledAt is not null, Patience);
        Assert.True(report.StatementsAvailable, report.Error);
        Assert.NotEmpty(report.Statements);
        Assert.InRange(report.CacheHitRatio, 0, 1);
        Assert.True(report.XidAge > 0);
        Assert.Contains(report.Slots, s => s.Name == "oltp_2" && s.Type == "physical");
        var history = await fixture.Monitoring.GetMetricHistoryAsync(new GetMetricHistoryRequest { Tier = MonitoringSiloFixture.TierName, Metric = "cache_hit_ratio" });
        Assert.NotEmpty(history.Points);
    }

    private static Statement? Lookup(Performance p) =>
        p.Statements.FirstOrDefault(s => s.Query.Contains("FROM mon_orders WHERE customer", StringComparison.Ordinal));
}
