using System.Diagnostics;
using System.Text.Json;
using ControlPlane.IntegrationTests.Monitoring;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Capacity;

/// <summary>
/// Capacity planning against the monitoring silo's real tier, sampled every second into one-second points: a table
/// grown at a known rate, the forecast of the tier's size limit from it, the alert it raises, and cpctl capacity.
/// </summary>
[Collection(MonitoringCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class CapacityTests(MonitoringSiloFixture fixture)
{
    private const double BytesPerSecond = 1024 * 1024;
    private static readonly TimeSpan Growth = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(25);

    [Fact]
    public async Task A_table_grown_at_a_steady_rate_is_forecast_to_fill_the_size_limit_within_ten_percent_and_raises_the_alert()
    {
        var capacity = fixture.Capacity;
        // The default rule waits half an hour before firing; the test's growth lasts under a minute.
        await fixture.Alerts.PutAlertRuleAsync(new PutAlertRuleRequest
        {
            Rule = new AlertRule { Name = "CapacityForecastShort", Expression = "capacity_days_to_limit < 14", For = Duration.FromTimeSpan(TimeSpan.Zero), Severity = "warning", Enabled = true },
        });
        try
        {
            await using var connection = await fixture.OpenPrimaryAsync("capacity-test");
            await MonitoringSiloFixture.ExecuteAsync(connection, "DROP TABLE IF EXISTS capacity_growth; CREATE TABLE capacity_growth (id bigserial, payload text)");
            CapacityView? view = null;
            double observedRate = 0;
            Alert? alert = null;
            var measured = new List<(DateTimeOffset At, long Bytes)>();
            await GrowAsync(connection, Growth, measured, async elapsed =>
            {
                // Ask while the table still grows: the newest points must be part of the steady growth. On a loaded
                // machine the sampler may need longer to gather a window of points, and the writer may stall: ask again
                // until the window the forecast saw was steady by the writer's own measurements, and judge the forecast
                // against the rate the writer measured over that window, not the nominal one.
                if (view is null && elapsed > Window + TimeSpan.FromSeconds(5))
                {
                    var candidate = await capacity.GetCapacityAsync(new GetCapacityRequest { Tier = MonitoringSiloFixture.TierName, Window = Duration.FromTimeSpan(Window) });
                    var series = candidate.Series.FirstOrDefault(s => s.Resource == "database_bytes" && s.Forecast.HasDaysToLimit);
                    if (series is not null && SteadyRate(measured, series.History[^1].At.ToDateTimeOffset() - Window, series.History[^1].At.ToDateTimeOffset()) is { } rate)
                    {
                        view = candidate;
                        observedRate = rate;
                    }
                }
                alert ??= (await fixture.Alerts.ListAlertsAsync(new ListAlertsRequest())).Alerts.FirstOrDefault(a =>
                    a.Rule == "CapacityForecastShort" && a.State == "firing" && a.Labels["tier"] == MonitoringSiloFixture.TierName
                    && a.Labels["resource"] == "database_bytes");
                return view is not null && alert is not null;
            });

            Assert.NotNull(view);
            var size = Assert.Single(view.Series, s => s.Resource == "database_bytes");
            Assert.Equal(MonitoringSiloFixture.CapacitySizeLimit, size.Limit);
            var newest = size.History[^1];
            var trueDays = (MonitoringSiloFixture.CapacitySizeLimit - newest.Value) / observedRate / 86400;
            Assert.True(size.Forecast.HasDaysToLimit, $"no days to the limit: {size.Forecast}");
            Assert.InRange(size.Forecast.DaysToLimit, trueDays * 0.9, trueDays * 1.1);
            Assert.True(size.Forecast.DaysLow <= size.Forecast.DaysToLimit && (!size.Forecast.HasDaysHigh || size.Forecast.DaysHigh >= size.Forecast.DaysToLimit));
            Assert.Contains(view.Tables, t => t.Name == "capacity_growth" && t.Bytes > 10 * 1024 * 1024);
            Assert.Contains(view.Replicas, r => r.Primary && r.Replica == MonitoringSiloFixture.Primary && r.MaxConnections > 0);
            Assert.NotNull(alert);
        }
        finally
        {
            await fixture.Alerts.DeleteAlertRuleAsync(new DeleteAlertRuleRequest { Name = "CapacityForecastShort" });
        }
    }

    [Fact]
    public async Task Tenants_in_shared_tables_are_sized_by_their_row_share_with_a_forecast_each_and_every_replica_shows_both_disks()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var (big, small) = ($"cap-big-{suffix}", $"cap-small-{suffix}");
        await using var db = await fixture.OpenPrimaryAsync("capacity-tenants");
        // The shared table exists before the tenants register: registration puts their policies on it.
        await MonitoringSiloFixture.ExecuteAsync(db, "CREATE SCHEMA IF NOT EXISTS tenant_shared; CREATE TABLE IF NOT EXISTS tenant_shared.capacity_notes (tenant_id text NOT NULL, body text)");
        foreach (var tenant in new[] { big, small })
        {
            await fixture.Tenants.RegisterTenantAsync(new TenantRegisterRequest
            {
                Tenant = tenant,
                // The capacity view lists the tenants with a plan on the tier; a minimum of 0 reserves nothing of the pool.
                Plans = { new TenantPlan { Tier = MonitoringSiloFixture.TierName, Weight = 1, Min = 0, Max = 1 } },
                Placements = { new TenantPlacement { Tier = MonitoringSiloFixture.TierName, Kind = PlacementKind.Shared } },
            });
        }
        await WaitForAsync(() => "the tenants did not become active", async () => (await Task.WhenAll(new[] { big, small }.Select(t => fixture.Tenants.GetTenantAsync(new TenantRequest { Tenant = t }).ResponseAsync)))
            .All(t => t.State == TenantState.Active));
        // Three rows of the big tenant for each of the small one's; ANALYZE reads every row of a table this small.
        await MonitoringSiloFixture.ExecuteAsync(db, $"""
            INSERT INTO tenant_shared.capacity_notes SELECT CASE WHEN g % 4 = 0 THEN '{small}' ELSE '{big}' END, repeat('n', 200) FROM generate_series(1, 20000) g;
            ANALYZE tenant_shared.capacity_notes;
            """);

        CapacityView? view = null;
        await WaitForAsync(() => $"last view: {view}", async () =>
        {
            view = await fixture.Capacity.SampleCapacityAsync(new SampleCapacityRequest { Tier = MonitoringSiloFixture.TierName });
            return view.Series.Count(s => s.Resource == "tenant_bytes" && (s.Tenant == big || s.Tenant == small)
                && s.History.Count >= 3 && s.Forecast.Method != ForecastMethod.None) == 2;
        });

        var bigSize = Assert.Single(view!.Tenants, t => t.Tenant == big);
        var smallSize = Assert.Single(view.Tenants, t => t.Tenant == small);
        Assert.True(bigSize.Measured && smallSize.Measured);
        Assert.Equal((0L, 0L), (bigSize.SchemaBytes, smallSize.SchemaBytes));
        Assert.InRange((double)bigSize.SharedBytesEstimate / smallSize.SharedBytesEstimate, 2.7, 3.3);
        Assert.True(smallSize.SharedBytesEstimate > 1024 * 1024, $"estimate {smallSize.SharedBytesEstimate}");
        Assert.Equal(bigSize.SharedBytesEstimate, bigSize.Bytes);
        Assert.All(view.Replicas.Where(r => r.Error.Length == 0), r =>
        {
            Assert.True(r.HasDiskTotalBytes && r.HasWalDiskTotalBytes, r.ToString());
            Assert.InRange(r.DiskFreeRatio, 0, 1);
            Assert.InRange(r.WalDiskFreeRatio, 0, 1);
        });

        var (exit, output, error) = await fixture.CpctlAsync("capacity", MonitoringSiloFixture.TierName, "--resource", "tenant_bytes");
        Assert.True(exit == 0, error);
        Assert.Contains($"tenant_bytes {big}", output, StringComparison.Ordinal);
        Assert.Contains("shared ~", output, StringComparison.Ordinal);
        Assert.Contains("pg_wal", output, StringComparison.Ordinal);
    }

    private static async Task WaitForAsync(Func<string> describe, Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within 90 s: {describe()}");
            await Task.Delay(500);
        }
    }

    [Fact]
    public async Task Cpctl_capacity_prints_the_series_the_chart_and_the_json_view()
    {
        var (exit, output, error) = await fixture.CpctlAsync("capacity", MonitoringSiloFixture.TierName, "--sample");
        Assert.True(exit == 0, error);
        Assert.Contains("CHART database_bytes", output, StringComparison.Ordinal);
        Assert.Contains("SERIES", output, StringComparison.Ordinal);
        Assert.Contains("connections oltp-1", output, StringComparison.Ordinal);

        var (jsonExit, json, jsonError) = await fixture.CpctlAsync("capacity", MonitoringSiloFixture.TierName, "--resource", "connections", "--json");
        Assert.True(jsonExit == 0, jsonError);
        using var document = JsonDocument.Parse(json);
        Assert.All(document.RootElement.GetProperty("series").EnumerateArray(), s => Assert.Equal("connections", s.GetProperty("resource").GetString()));
    }

    [Fact]
    public async Task An_unknown_tier_is_a_clear_error_for_cpctl_and_the_api()
    {
        var (exit, _, error) = await fixture.CpctlAsync("capacity", "nosuch");
        Assert.NotEqual(0, exit);
        Assert.Contains("tier 'nosuch' not found", error, StringComparison.Ordinal);

        var capacity = fixture.Capacity;
        var notFound = await Assert.ThrowsAsync<RpcException>(() => capacity.GetCapacityAsync(new GetCapacityRequest { Tier = "nosuch" }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, notFound.StatusCode);
        var badWindow = await Assert.ThrowsAsync<RpcException>(() => capacity.GetCapacityAsync(
            new GetCapacityRequest { Tier = MonitoringSiloFixture.TierName, Window = new Duration { Seconds = -5 } }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, badWindow.StatusCode);
        Assert.Contains("window -5s", badWindow.Status.Detail, StringComparison.Ordinal);
        var badResource = await Assert.ThrowsAsync<RpcException>(() => capacity.GetCapacityAsync(
            new GetCapacityRequest { Tier = MonitoringSiloFixture.TierName, Resource = "disk" }).ResponseAsync);
        Assert.Contains("resource 'disk' is unknown", badResource.Status.Detail, StringComparison.Ordinal);
    }

    /// <summary>
    /// The least-squares growth rate (bytes/s) of the writer's own measurements between <paramref name="from"/> and
    /// <paramref name="to"/>, or null when that stretch was not steady: too few measurements, a rate off the nominal one
    /// by more than a fifth, or a measurement more than two seconds' growth off the line (a stall a loaded machine caused).
    /// </summary>
    private static double? SteadyRate(List<(DateTimeOffset At, long Bytes)> measured, DateTimeOffset from, DateTimeOffset to)
    {
        var points = measured.Where(m => m.At >= from && m.At <= to).Select(m => ((m.At - from).TotalSeconds, (double)m.Bytes)).ToList();
        if (points.Count < 10) return null;
        var meanX = points.Average(p => p.Item1);
        var meanY = points.Average(p => p.Item2);
        var sxx = points.Sum(p => (p.Item1 - meanX) * (p.Item1 - meanX));
        if (sxx <= 0) return null;
        var slope = points.Sum(p => (p.Item1 - meanX) * (p.Item2 - meanY)) / sxx;
        if (Math.Abs(slope - BytesPerSecond) > BytesPerSecond / 5) return null;
        var worst = points.Max(p => Math.Abs(p.Item2 - (meanY + slope * (p.Item1 - meanX))));
        return worst > 2 * BytesPerSecond ? null : slope;
    }

    /// <summary>
    /// Keeps the table's size on the line <see cref="BytesPerSecond"/> × elapsed: each round measures the table (noting
    /// the measurement in <paramref name="measured"/>) and inserts what it lacks, so a stalled round is caught up by the
    /// next and the growth stays steady on average. Asks <paramref name="between"/> every second; stops once it answers
    /// true (after <paramref name="duration"/>), or at three times the duration.
    /// </summary>
    private static async Task GrowAsync(NpgsqlConnection connection, TimeSpan duration, List<(DateTimeOffset At, long Bytes)> measured, Func<TimeSpan, Task<bool>> between)
    {
        const int rowBytes = 1100;
        var clock = Stopwatch.StartNew();
        var lastCheck = TimeSpan.Zero;
        var done = false;
        while (clock.Elapsed < 3 * duration && !(done && clock.Elapsed >= duration))
        {
            await using (var measure = new NpgsqlCommand("SELECT pg_total_relation_size('capacity_growth')", connection))
            {
                var size = (long)(await measure.ExecuteScalarAsync())!;
                measured.Add((DateTimeOffset.UtcNow, size));
                var missing = BytesPerSecond * clock.Elapsed.TotalSeconds - size;
                if (missing > 0)
                {
                    await using var insert = new NpgsqlCommand(
                        "INSERT INTO capacity_growth (payload) SELECT repeat(md5(g::text), 32) FROM generate_series(1, @n) g", connection);
                    insert.Parameters.AddWithValue("n", (int)Math.Min(20_000, Math.Ceiling(missing / rowBytes)));
                    await insert.ExecuteNonQueryAsync();
                }
            }
            if (clock.Elapsed - lastCheck > TimeSpan.FromSeconds(1))
            {
                lastCheck = clock.Elapsed;
                done = await between(clock.Elapsed);
            }
            await Task.Delay(20);
        }
    }
}
