namespace ControlPlane.Postgres.Verify;

/// <summary>Percentiles of a set of latencies, pure (nearest rank: the value at or above which p % of samples lie).</summary>
public sealed record LatencySummary(int Count, double P50Ms, double P95Ms, double P99Ms, double MaxMs)
{
    public static LatencySummary Of(IReadOnlyList<double> milliseconds)
    {
        ArgumentNullException.ThrowIfNull(milliseconds);
        if (milliseconds.Count == 0) return new LatencySummary(0, 0, 0, 0, 0);
        var sorted = milliseconds.Order().ToArray();
        return new LatencySummary(sorted.Length, Percentile(sorted, 50), Percentile(sorted, 95), Percentile(sorted, 99), sorted[^1]);
    }

    /// <summary>The nearest-rank percentile of an ascending array: the smallest value with at least p % of samples at or below it.</summary>
    public static double Percentile(double[] ascending, double p)
    {
        ArgumentNullException.ThrowIfNull(ascending);
        if (ascending.Length == 0) return 0;
        var rank = (int)Math.Ceiling(p / 100 * ascending.Length);
        return ascending[Math.Clamp(rank, 1, ascending.Length) - 1];
    }
}
