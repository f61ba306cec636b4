namespace ControlPlane.Grains.Capacity;

/// <summary>
/// One point of a resource's history: the mean of the samples that fell into one bucket, at the mean of their times
/// (not the bucket's start: a late sample must not look like a jump in a steadily growing series).
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.CapacityPoint")]
public sealed record CapacityPoint(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] double Value,
    [property: Id(2)] int Count = 1);

/// <summary>
/// Downsampling of a history, pure. Samples are averaged into buckets of the series' resolution; when the history
/// holds more than its budget of points, the resolution doubles and neighbouring buckets merge. The history thus
/// always sits on a regular grid (what Holt–Winters needs), covers ever longer spans in a fixed number of points,
/// and keeps the recent past as fine as the old past: a series sampled every 5 minutes into hourly buckets keeps
/// 1000 points ≈ 6 weeks hourly, then 12 weeks two-hourly, and so on.
/// </summary>
public static class CapacityHistory
{
    /// <summary>The history after one sample: merged into the newest bucket when it falls there, else a new bucket;
    /// coarsened while over <paramref name="maxPoints"/>. Samples older than the newest bucket are dropped.</summary>
    public static (List<CapacityPoint> Points, TimeSpan Resolution) Append(
        IReadOnlyList<CapacityPoint> points, TimeSpan resolution, DateTimeOffset at, double value, int maxPoints)
    {
        ArgumentNullException.ThrowIfNull(points);
        if (resolution <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(resolution), resolution, "the resolution must be positive.");
        if (maxPoints < 2) throw new ArgumentOutOfRangeException(nameof(maxPoints), maxPoints, "a history keeps at least 2 points.");
        var result = new List<CapacityPoint>(points);
        if (double.IsNaN(value) || double.IsInfinity(value)) return (result, resolution);
        if (result.Count > 0)
        {
            var last = result[^1];
            if (at < last.At) return (result, resolution);
            if (Bucket(last.At, resolution) == Bucket(at, resolution))
            {
                result[^1] = Merge([last, new CapacityPoint(at, value)]);
                return (result, resolution);
            }
        }
        result.Add(new CapacityPoint(at, value));
        while (result.Count > maxPoints)
        {
            resolution *= 2;
            result = Coarsen(result, resolution);
        }
        return (result, resolution);
    }

    /// <summary>Merges the points that share a bucket of <paramref name="resolution"/>, in order.</summary>
    public static List<CapacityPoint> Coarsen(IReadOnlyList<CapacityPoint> points, TimeSpan resolution)
    {
        var result = new List<CapacityPoint>(points.Count / 2 + 1);
        var group = new List<CapacityPoint>();
        foreach (var point in points)
        {
            if (group.Count > 0 && Bucket(group[0].At, resolution) != Bucket(point.At, resolution))
            {
                result.Add(Merge(group));
                group.Clear();
            }
            group.Add(point);
        }
        if (group.Count > 0) result.Add(Merge(group));
        return result;
    }

    /// <summary>Only the points at or after <paramref name="since"/> (the whole history when null).</summary>
    public static IReadOnlyList<CapacityPoint> Since(IReadOnlyList<CapacityPoint> points, DateTimeOffset? since) =>
        since is { } s ? points.Where(p => p.At >= s).ToList() : points;

    private static long Bucket(DateTimeOffset at, TimeSpan resolution) => at.UtcTicks / resolution.Ticks;

    private static CapacityPoint Merge(IReadOnlyList<CapacityPoint> group)
    {
        if (group.Count == 1) return group[0];
        long count = group.Sum(p => (long)p.Count);
        var origin = group[0].At.UtcTicks;
        var ticks = origin + (long)Math.Round(group.Sum(p => (double)(p.At.UtcTicks - origin) * p.Count) / count);
        var value = group.Sum(p => p.Value * p.Count) / count;
        return new CapacityPoint(new DateTimeOffset(ticks, TimeSpan.Zero), value, (int)Math.Min(int.MaxValue, count));
    }
}
