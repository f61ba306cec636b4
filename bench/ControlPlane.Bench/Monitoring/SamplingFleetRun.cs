using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using ControlPlane.Bench.Backups;
using ControlPlane.Bench.Common;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Postgres.Monitoring;

namespace ControlPlane.Bench.Monitoring;

/// <summary>What sampling N replicas at the silo's own intervals costs the sampling process, over a whole run.</summary>
public sealed record SamplingFleetResult(
    int Replicas, TimeSpan Duration, TimeSpan CheapInterval, TimeSpan HeavyInterval,
    long CheapCycles, long HeavyCycles, LatencySummary CheapWall, LatencySummary HeavyWall, long Failures,
    double ProcessCpuPercentOfOneCore, double IdleCpuPercentOfOneCore, string LoadBefore, string LoadAfter)
{
    public string Render() => string.Create(CultureInfo.InvariantCulture, $"""
        {Replicas} simulated replicas (one sampler and one connection each, one real primary behind them), {Duration.TotalSeconds:0} s, cheap every {CheapInterval.TotalSeconds:0} s, heavy every {HeavyInterval.TotalSeconds:0} s, starts spread over the interval
        cheap cycles {CheapCycles}: wall p50 {CheapWall.P50Ms:0.0} ms, p99 {CheapWall.P99Ms:0.0} ms; heavy cycles {HeavyCycles}: wall p50 {HeavyWall.P50Ms:0.0} ms, p99 {HeavyWall.P99Ms:0.0} ms; failures {Failures}
        sampling process CPU: {ProcessCpuPercentOfOneCore:0.00} % of one core (the same process idle for 10 s before: {IdleCpuPercentOfOneCore:0.00} %)
        load average {LoadBefore} -> {LoadAfter}
        """);
}

/// <summary>
/// N replicas sampled at once the way the silo samples them: each its own <see cref="PerfInspector"/> (its own
/// connection), a cheap cycle every <c>cheapInterval</c> and a heavy one every <c>heavyInterval</c>, each replica's
/// phase spread over the interval as activations spread theirs, and the pure readings built from every sample. The
/// replicas are simulated by connections to one real primary: the process does the silo's sampling work for N
/// replicas, the server answers N samplers. This process's CPU over the run is the silo-side cost of sampling
/// (grain turns and the alert engine's evaluation, measured in §14, come on top).
/// </summary>
public static class SamplingFleetRun
{
    public static async Task<SamplingFleetResult> RunAsync(BenchWorkspace workspace, int scale, int tables, int replicas, TimeSpan duration,
        TimeSpan cheapInterval, TimeSpan heavyInterval, TextWriter log, CancellationToken ct)
    {
        var endpoint = await SamplingRun.PrepareAsync(workspace, scale, tables, log, ct);
        var inspectors = Enumerable.Range(0, replicas).Select(_ => new PerfInspector(endpoint, TimeSpan.FromSeconds(30))).ToList();
        try
        {
            // Connections opened and plans warm before the clock starts, as on a silo that has been running.
            foreach (var inspector in inspectors) await inspector.SampleCheapAsync(ct);
            var idle = await ProcessCpuPercentAsync(TimeSpan.FromSeconds(10), ct);
            await log.WriteLineAsync($"{replicas} samplers connected; idle process CPU {idle:0.00} % of a core; sampling for {duration}");
            var loadBefore = MachineInfo.LoadAverage();
            var cheap = new ConcurrentBag<long>();
            var heavy = new ConcurrentBag<long>();
            long failures = 0;
            using var process = Process.GetCurrentProcess();
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var started = Stopwatch.GetTimestamp();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            stop.CancelAfter(duration);
            var loops = inspectors.Select((inspector, i) => ReplicaLoopAsync(inspector, i, replicas, cheapInterval, heavyInterval, cheap, heavy,
                () => Interlocked.Increment(ref failures), stop.Token)).ToList();
            await Task.WhenAll(loops);
            process.Refresh();
            var elapsed = Stopwatch.GetElapsedTime(started);
            var cpu = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds / elapsed.TotalMilliseconds * 100;
            return new SamplingFleetResult(replicas, elapsed, cheapInterval, heavyInterval, cheap.Count, heavy.Count,
                LatencySummary.FromTicks([.. cheap]), LatencySummary.FromTicks([.. heavy]), failures, Math.Round(cpu, 2), Math.Round(idle, 2),
                loadBefore, MachineInfo.LoadAverage());
        }
        finally
        {
            foreach (var inspector in inspectors) await inspector.DisposeAsync();
        }
    }

    private static async Task ReplicaLoopAsync(PerfInspector inspector, int index, int replicas, TimeSpan cheapInterval, TimeSpan heavyInterval,
        ConcurrentBag<long> cheapWall, ConcurrentBag<long> heavyWall, Action failed, CancellationToken stop)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["environment"] = "bench", ["tier"] = BenchPrimary.Tier, ["replica"] = $"sim-{index}" };
        var baseline = new StatementBaseline();
        IReadOnlyDictionary<long, StatementTrack> tracks = new Dictionary<long, StatementTrack>();
        CheapSample? previous = null;
        var cheapEvery = Math.Max(1, (int)Math.Round(heavyInterval / cheapInterval));
        try
        {
            await Task.Delay(cheapInterval * index / replicas, stop);
            // The heavy cycle of replica i falls on its own tick of the heavy interval, so heavy cycles spread too.
            for (var tick = 0; ; tick++)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    var sample = await inspector.SampleCheapAsync(stop);
                    if (tick % cheapEvery == index % cheapEvery)
                    {
                        var heavyStart = Stopwatch.GetTimestamp();
                        var heavy = await inspector.SampleHeavyAsync(stop);
                        tracks = baseline.Next(tracks, heavy.Statements);
                        _ = PerfReadings.Of(sample, heavy, tracks, null, labels, previous);
                        heavyWall.Add(Stopwatch.GetTimestamp() - heavyStart);
                    }
                    else
                    {
                        _ = PerfReadings.Of(sample, null, null, null, labels, previous);
                    }
                    previous = sample;
                    cheapWall.Add(Stopwatch.GetTimestamp() - start);
                }
                catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
                {
                    failed();
                }
                var wait = cheapInterval - Stopwatch.GetElapsedTime(start);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The run's duration is over.
        }
    }

    private static async Task<double> ProcessCpuPercentAsync(TimeSpan span, CancellationToken ct)
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var before = process.TotalProcessorTime;
        await Task.Delay(span, ct);
        process.Refresh();
        return (process.TotalProcessorTime - before).TotalMilliseconds / span.TotalMilliseconds * 100;
    }
}
