using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using ControlPlane.Bench.Backups;
using ControlPlane.Bench.Common;
using ControlPlane.Postgres.Changes;
using ControlPlane.Postgres.Fleet;
using Npgsql;

namespace ControlPlane.Bench.Changes;

/// <summary>Writes while one index was built: how many, and how long each took.</summary>
public sealed record IndexBuildWindow(string How, double BuildSeconds, LatencySummary Writes, double WritesPerSecond, long Failures);

public sealed record IndexAvailabilityResult(
    MachineInfo Machine, string LoadBefore, string LoadAfter, int Scale, int Writers, LatencySummary Baseline, double BaselineWritesPerSecond,
    IReadOnlyList<IndexBuildWindow> Builds)
{
    public string Render()
    {
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"index builds on pgbench_accounts (scale {Scale}) under {Writers} writers (UPDATE by aid); load {LoadBefore} -> {LoadAfter}\n"));
        text.AppendLine(CultureInfo.InvariantCulture, $"{"window",-44} {"build s",8} {"writes",7} {"w/s",7} {"p50 ms",7} {"p99 ms",8} {"max ms",8} {"failed",6}");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{"baseline (no build), 5 s",-44} {"-",8} {Baseline.Count,7} {BaselineWritesPerSecond,7:F0} {Baseline.P50Ms,7:F1} {Baseline.P99Ms,8:F1} {Baseline.MaxMs,8:F1} {0,6}");
        foreach (var b in Builds)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"{b.How,-44} {b.BuildSeconds,8:F2} {b.Writes.Count,7} {b.WritesPerSecond,7:F0} {b.Writes.P50Ms,7:F1} {b.Writes.P99Ms,8:F1} {b.Writes.MaxMs,8:F1} {b.Failures,6}");
        }
        return text.ToString();
    }
}

/// <summary>
/// Write availability while an index is built, measured by independent writers (plain Npgsql sessions updating
/// random rows, not the control plane): the change applier's <c>CREATE INDEX CONCURRENTLY</c> (the rewrite lint
/// rule CP001 asks for, under the rollout's lock_timeout and advisory lock) beside a plain <c>CREATE INDEX</c> of the
/// same column, which holds a SHARE lock that every write queues behind for the whole build.
/// </summary>
public static class IndexAvailabilityRun
{
    public static async Task<IndexAvailabilityResult> RunAsync(int scale, int writers, string? workDir, TextWriter log, CancellationToken ct)
    {
        var loadBefore = MachineInfo.LoadAverage();
        await using var workspace = await BenchWorkspace.CreateAsync(workDir, keep: false, ct);
        var primary = await BenchPrimary.CreateAsync(workspace, scale, log, ct);
        var endpoint = primary.Driver.Endpoint;
        var rows = scale * 100_000;

        var samples = new ConcurrentQueue<(long At, long Ticks, bool Failed)>();
        using var stop = new CancellationTokenSource();
        var writing = Enumerable.Range(0, writers).Select(i => WriteAsync(endpoint, rows, i, samples, stop.Token)).ToArray();
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            var baselineStart = Stopwatch.GetTimestamp();
            await Task.Delay(TimeSpan.FromSeconds(5), ct);
            var baseline = Window(samples, baselineStart, Stopwatch.GetTimestamp());
            await log.WriteLineAsync($"baseline: {baseline.Writes.Count} writes in 5 s, p99 {baseline.Writes.P99Ms:F1} ms");

            var builds = new List<IndexBuildWindow>();
            var concurrently = new ScriptRun(1, "V1__accounts_abalance.sql", "bench", false,
                ["CREATE INDEX CONCURRENTLY accounts_abalance_cic ON pgbench_accounts (abalance)"]);
            builds.Add(await BuildAsync("change applier: CREATE INDEX CONCURRENTLY", samples, async () =>
            {
                await using var applier = await ChangeApplier.OpenAsync(endpoint, "public", ct);
                _ = await applier.HistoryAsync(ct);
                await applier.ApplyAsync(concurrently, "bench", "bench", new ApplyLimits(TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(30)), ct);
            }, log));
            builds.Add(await BuildAsync("plain CREATE INDEX (what CP001 refuses)", samples, async () =>
            {
                await using var session = await BenchWorkspace.OpenAsync(endpoint, ct);
                await using var cmd = new NpgsqlCommand("CREATE INDEX accounts_abalance_plain ON pgbench_accounts (abalance)", session) { CommandTimeout = 1800 };
                await cmd.ExecuteNonQueryAsync(ct);
            }, log));
            return new IndexAvailabilityResult(MachineInfo.Capture(), loadBefore, MachineInfo.LoadAverage(), scale, writers,
                baseline.Writes, baseline.WritesPerSecond, builds);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(writing);
        }
    }

    private static async Task<IndexBuildWindow> BuildAsync(string how, ConcurrentQueue<(long At, long Ticks, bool Failed)> samples, Func<Task> build, TextWriter log)
    {
        // A second of writes first, so the window starts on a steady stream.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var start = Stopwatch.GetTimestamp();
        await build();
        var end = Stopwatch.GetTimestamp();
        // Writes queued behind the build's lock finish just after it: they belong to its window.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var window = Window(samples, start, end, includeStartedBefore: end);
        var result = window with { How = how, BuildSeconds = Math.Round(Stopwatch.GetElapsedTime(start, end).TotalSeconds, 3) };
        await log.WriteLineAsync($"{how}: {result.BuildSeconds:F2} s, {result.Writes.Count} writes, max {result.Writes.MaxMs:F0} ms");
        return result;
    }

    /// <summary>
    /// The writes that started within [start, end) (with <paramref name="includeStartedBefore"/>: every write that
    /// started before that moment and ended after <paramref name="start"/>, so a write blocked by the build counts).
    /// </summary>
    private static IndexBuildWindow Window(ConcurrentQueue<(long At, long Ticks, bool Failed)> samples, long start, long end, long? includeStartedBefore = null)
    {
        var chosen = samples.Where(s => includeStartedBefore is { } before
            ? s.At < before && s.At + s.Ticks >= start
            : s.At >= start && s.At < end).ToList();
        var seconds = Stopwatch.GetElapsedTime(start, end).TotalSeconds;
        return new IndexBuildWindow("", 0, LatencySummary.FromTicks([.. chosen.Where(s => !s.Failed).Select(s => s.Ticks)]),
            Math.Round(chosen.Count / Math.Max(seconds, 0.001), 1), chosen.LongCount(s => s.Failed));
    }

    private static async Task WriteAsync(ReplicaEndpoint endpoint, int rows, int seed, ConcurrentQueue<(long, long, bool)> samples, CancellationToken stop)
    {
        var random = new Random(seed);
        await using var session = await BenchWorkspace.OpenAsync(endpoint, CancellationToken.None);
        await using var cmd = new NpgsqlCommand("UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = $1", session);
        var aid = new NpgsqlParameter<int> { TypedValue = 1 };
        cmd.Parameters.Add(aid);
        while (!stop.IsCancellationRequested)
        {
            aid.TypedValue = random.Next(1, rows + 1);
            var at = Stopwatch.GetTimestamp();
            var failed = false;
            try
            {
                await cmd.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (NpgsqlException)
            {
                failed = true;
            }
            samples.Enqueue((at, Stopwatch.GetTimestamp() - at, failed));
        }
    }
}
