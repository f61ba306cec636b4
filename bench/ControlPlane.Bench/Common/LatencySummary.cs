using System.Diagnostics;

namespace ControlPlane.Bench.Common;

/// <summary>Percentiles of a set of call latencies, in milliseconds (nearest-rank on the sorted samples).</summary>
public sealed record LatencySummary(long Count, double MinMs, double MeanMs, double P50Ms, double P90Ms, double P99Ms, double P999Ms, double MaxMs)
{
    /// <summary>Summarises latencies measured in <see cref="Stopwatch"/> ticks; sorts <paramref name="ticks"/> in place.</summary>
    public static LatencySummary FromTicks(long[] ticks)
    {
        ArgumentNullException.ThrowIfNull(ticks);
        if (ticks.Length == 0) return new LatencySummary(0, 0, 0, 0, 0, 0, 0, 0);
        Array.Sort(ticks);
        double sum = 0;
        foreach (var t in ticks) sum += t;
        return new LatencySummary(
            ticks.Length,
            Ms(ticks[0]),
            Ms(sum / ticks.Length),
            Ms(Percentile(ticks, 50)),
            Ms(Percentile(ticks, 90)),
            Ms(Percentile(ticks, 99)),
            Ms(Percentile(ticks, 99.9)),
            Ms(ticks[^1]));
    }

    /// <summary>The smallest sample such that at least <paramref name="percent"/>% of the samples are at or below it.</summary>
    public static long Percentile(long[] sorted, double percent)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        var rank = (int)Math.Ceiling(percent / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    private static double Ms(double ticks) => Math.Round(ticks * 1000.0 / Stopwatch.Frequency, 3);
}
