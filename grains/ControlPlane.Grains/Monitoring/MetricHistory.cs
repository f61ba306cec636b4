namespace ControlPlane.Grains.Monitoring;

/// <summary>
/// A metric's history, bounded: the newest <see cref="RawCapacity"/> readings as they came, and older ones folded
/// <see cref="FoldEvery"/> at a time into points of their mean, min and max, of which the newest
/// <see cref="FoldedCapacity"/> are kept. At a 5 s probe that is 10 minutes in full and about 20 hours coarse,
/// in a fixed few kilobytes per metric.
/// </summary>
public sealed class MetricHistory(int rawCapacity = 120, int foldEvery = 12, int foldedCapacity = 1200)
{
    private readonly Queue<MetricPoint> _raw = new();
    private readonly Queue<MetricPoint> _folded = new();
    private readonly List<MetricPoint> _pending = [];

    public int RawCapacity => rawCapacity;
    public int FoldEvery => foldEvery;
    public int FoldedCapacity => foldedCapacity;

    public void Add(DateTimeOffset at, double value)
    {
        _raw.Enqueue(new MetricPoint(at, value, value, value, 1));
        if (_raw.Count <= rawCapacity) return;
        _pending.Add(_raw.Dequeue());
        if (_pending.Count < foldEvery) return;
        _folded.Enqueue(Fold(_pending));
        _pending.Clear();
        if (_folded.Count > foldedCapacity) _folded.Dequeue();
    }

    /// <summary>Oldest first: folded points, then the readings not yet folded, then the raw ones.</summary>
    public IReadOnlyList<MetricPoint> Points() => [.. _folded, .. _pending, .. _raw];

    public int Count => _raw.Count + _pending.Count + _folded.Count;

    private static MetricPoint Fold(List<MetricPoint> points) =>
        new(points[^1].At, points.Sum(p => p.Mean * p.Count) / points.Sum(p => p.Count), points.Min(p => p.Min), points.Max(p => p.Max), points.Sum(p => p.Count));
}
