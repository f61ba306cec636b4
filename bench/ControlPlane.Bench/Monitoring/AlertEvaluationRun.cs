using System.Diagnostics;
using System.Globalization;
using ControlPlane.Bench.Backups;
using ControlPlane.Bench.Common;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Postgres.Monitoring;
using Npgsql;

namespace ControlPlane.Bench.Monitoring;

/// <summary>The cost of one <see cref="AlertPolicy.Evaluate"/> over a rule set and one batch of readings.</summary>
public sealed record EvaluationCost(int Rules, int Replicas, int Readings, int ActiveAlerts, LatencySummary PerEvaluation)
{
    public double MicrosecondsPerRule => PerEvaluation.MeanMs * 1000 / Rules;
}

public sealed record AlertEvaluationResult(double IntervalSeconds, double ThresholdSeconds, LatencySummary CrossingToFiring, LatencySummary SampleAndEvaluate,
    IReadOnlyList<EvaluationCost> Costs)
{
    public string Render()
    {
        var c = CrossingToFiring;
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture,
                $"crossing to firing (sampling every {IntervalSeconds:0.##} s, longest_idle_in_transaction_seconds > {ThresholdSeconds:0.##}, {c.Count} trials): p50 {c.P50Ms:0} ms, p90 {c.P90Ms:0} ms, max {c.MaxMs:0} ms"),
            string.Create(CultureInfo.InvariantCulture,
                $"  of which the firing tick itself (cheap sample + readings + evaluation): p50 {SampleAndEvaluate.P50Ms:0.0} ms, p90 {SampleAndEvaluate.P90Ms:0.0} ms"),
            "rules  replicas  readings  active  evaluations  mean µs/evaluation  p90 µs  µs/rule",
        };
        lines.AddRange(Costs.Select(e => string.Create(CultureInfo.InvariantCulture,
            $"{e.Rules,5}  {e.Replicas,8}  {e.Readings,8}  {e.ActiveAlerts,6}  {e.PerEvaluation.Count,11}  {e.PerEvaluation.MeanMs * 1000,19:0.0}  {e.PerEvaluation.P90Ms * 1000,6:0.0}  {e.MicrosecondsPerRule,7:0.00}")));
        return string.Join('\n', lines);
    }
}

/// <summary>
/// Alert-evaluation latency, two ways. End to end on a real primary: a session goes idle in a transaction, and the
/// replica sampler's own code (<see cref="PerfInspector"/>, <see cref="PerfReadings"/>) runs on the cheap family's
/// interval with <see cref="AlertPolicy"/> over the default rules plus one rule with no <c>for</c>; the latency is from
/// the moment the reading crossed the threshold (the session's idle start plus the threshold, server clock) to the
/// evaluation that fired. The alert grain's catalog write before delivery is not part of it. Pure: the cost of one
/// evaluation for rule sets and reading batches of several sizes.
/// </summary>
public static class AlertEvaluationRun
{
    public static async Task<AlertEvaluationResult> RunAsync(BenchWorkspace workspace, int trials, TimeSpan interval, int evaluations, TextWriter log, CancellationToken ct)
    {
        var threshold = TimeSpan.FromSeconds(1);
        var (crossing, ticks) = await CrossingToFiringAsync(workspace, trials, interval, threshold, log, ct);
        var costs = new List<EvaluationCost>();
        foreach (var extra in new[] { 0, 100, 1000 })
        foreach (var replicas in new[] { 1, 12, 40 })
            costs.Add(Cost(extra, replicas, evaluations));
        return new AlertEvaluationResult(interval.TotalSeconds, threshold.TotalSeconds, crossing, ticks, costs);
    }

    private static async Task<(LatencySummary Crossing, LatencySummary Ticks)> CrossingToFiringAsync(
        BenchWorkspace workspace, int trials, TimeSpan interval, TimeSpan threshold, TextWriter log, CancellationToken ct)
    {
        var primary = await BenchPrimary.CreateAsync(workspace, 1, log, ct);
        var endpoint = primary.Driver.Endpoint;
        var rule = new AlertRule("BenchIdleInTransaction", MonitoringMetrics.LongestIdleInTransactionSeconds, AlertComparison.Above,
            threshold.TotalSeconds, TimeSpan.Zero, AlertSeverity.Warning, new Dictionary<string, string>(), "", "bench");
        IReadOnlyList<AlertRule> rules = [.. DefaultAlertRules.All, rule];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["environment"] = "bench", ["tier"] = BenchPrimary.Tier, ["replica"] = "primary" };
        await using var inspector = new PerfInspector(endpoint, TimeSpan.FromSeconds(30));
        var latencies = new List<long>();
        var tickCosts = new List<long>();
        var random = new Random(7);
        IReadOnlyList<ActiveAlert> active = [];
        long version = 0;
        CheapSample? previous = null;
        await using var admin = await BenchWorkspace.OpenAsync(endpoint, ct);
        // The sampler ticks on its own fixed schedule, as a replica grain's timer does, whatever the trials do.
        var clock = Stopwatch.StartNew();
        var nextTick = TimeSpan.Zero;
        async Task UntilNextTickAsync()
        {
            var wait = nextTick - clock.Elapsed;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
            nextTick += interval;
            while (nextTick < clock.Elapsed) nextTick += interval;
        }
        for (var trial = 0; trial < trials; trial++)
        {
            // A random phase between the crossing and the sampler's ticks, as in production.
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(0, (int)interval.TotalMilliseconds)), ct);
            await using var idle = await BenchWorkspace.OpenAsync(endpoint, ct);
            await using (var begin = new NpgsqlCommand("BEGIN; SELECT 1", idle)) await begin.ExecuteNonQueryAsync(ct);
            await using var since = new NpgsqlCommand("SELECT state_change FROM pg_stat_activity WHERE pid = $1", admin);
            since.Parameters.Add(new NpgsqlParameter { Value = idle.ProcessID });
            var crossedAt = new DateTimeOffset(((DateTime)(await since.ExecuteScalarAsync(ct))!).ToUniversalTime(), TimeSpan.Zero) + threshold;
            var deadline = DateTime.UtcNow + threshold + interval * 10;
            while (DateTime.UtcNow < deadline)
            {
                await UntilNextTickAsync();
                var tick = Stopwatch.GetTimestamp();
                var sample = await inspector.SampleCheapAsync(ct);
                var readings = PerfReadings.Of(sample, null, null, null, labels, previous);
                previous = sample;
                var evaluation = AlertPolicy.Evaluate(rules, readings, active, [], version, DateTimeOffset.UtcNow);
                (active, version) = (evaluation.Active, evaluation.LastVersion);
                if (evaluation.Events.Any(e => e.Key.Rule == rule.Name && e.Phase == AlertPhase.Firing))
                {
                    tickCosts.Add(Stopwatch.GetTimestamp() - tick);
                    // The server runs on this host: its clock (the crossing) and ours (the firing) are the same clock.
                    latencies.Add((long)((DateTimeOffset.UtcNow - crossedAt).TotalSeconds * Stopwatch.Frequency));
                    break;
                }
            }
            await using (var rollback = new NpgsqlCommand("ROLLBACK", idle)) await rollback.ExecuteNonQueryAsync(ct);
            // One more evaluation after the rollback resolves the alert, so the next trial starts from nothing.
            await UntilNextTickAsync();
            var after = await inspector.SampleCheapAsync(ct);
            var resolved = AlertPolicy.Evaluate(rules, PerfReadings.Of(after, null, null, null, labels, previous), active, [], version, DateTimeOffset.UtcNow);
            (active, version, previous) = (resolved.Active, resolved.LastVersion, after);
            await log.WriteLineAsync($"trial {trial + 1}/{trials}: {(latencies.Count > trial ? $"{latencies[^1] * 1000.0 / Stopwatch.Frequency:0} ms" : "did not fire")}");
        }
        return (LatencySummary.FromTicks([.. latencies]), LatencySummary.FromTicks([.. tickCosts]));
    }

    /// <summary>The default rules plus <paramref name="extraRules"/> more over replica metrics, one cheap batch of
    /// readings from each of <paramref name="replicas"/> replicas (healthy values), with one alert firing per replica.</summary>
    public static EvaluationCost Cost(int extraRules, int replicas, int evaluations)
    {
        var replicaMetrics = MonitoringMetrics.All.Where(m => m.Source == "replica").Select(m => m.Name).ToList();
        var extra = Enumerable.Range(0, extraRules).Select(i => new AlertRule($"Extra{i}", replicaMetrics[i % replicaMetrics.Count], AlertComparison.Above,
            1e12 + i, TimeSpan.FromMinutes(1), AlertSeverity.Info, new Dictionary<string, string> { ["team"] = $"t{i % 7}" }, "", "bench"));
        var hot = new AlertRule("BenchHot", MonitoringMetrics.BlockedSessions, AlertComparison.Above, 0, TimeSpan.Zero, AlertSeverity.Warning,
            new Dictionary<string, string>(), "", "bench");
        IReadOnlyList<AlertRule> rules = [.. DefaultAlertRules.All, .. extra, hot];
        var now = new DateTimeOffset(2026, 12, 7, 4, 0, 0, TimeSpan.Zero);
        var readings = new List<MetricObservation>();
        for (var r = 0; r < replicas; r++)
        {
            var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["environment"] = "bench", ["tier"] = $"t{r % 4}", ["replica"] = $"r{r}" };
            readings.AddRange(replicaMetrics.Select(m => new MetricObservation(m, labels, m == MonitoringMetrics.BlockedSessions ? 1 : 0, now)));
        }
        var first = AlertPolicy.Evaluate(rules, readings, [], [], 0, now);
        // At most `evaluations`, and no more than a few seconds per configuration: the largest ones cost milliseconds each.
        var ticks = new List<long>(evaluations);
        var budget = Stopwatch.StartNew();
        while (ticks.Count < evaluations && (ticks.Count < 10 || budget.Elapsed < TimeSpan.FromSeconds(3)))
        {
            var start = Stopwatch.GetTimestamp();
            AlertPolicy.Evaluate(rules, readings, first.Active, [], first.LastVersion, now.AddSeconds(5));
            ticks.Add(Stopwatch.GetTimestamp() - start);
        }
        return new EvaluationCost(rules.Count, replicas, readings.Count, first.Active.Count, LatencySummary.FromTicks([.. ticks]));
    }
}
