namespace ControlPlane.Grains.Pools;

/// <summary>
/// One lease's open waits over the last <see cref="Span"/> of client reports, pure. A report covers only its own 5 s
/// interval, so the latest alone would drop to zero between two busy moments; an alert "for two minutes" and an SRE
/// reading <c>cpctl pool</c> both want the longest wait of the recent past instead.
/// </summary>
public sealed class OpenWaitWindow
{
    public static readonly TimeSpan Span = TimeSpan.FromMinutes(1);

    private readonly Queue<PoolStatsReport> _reports = new();

    public void Add(PoolStatsReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        _reports.Enqueue(report);
        Trim(report.At);
    }

    /// <summary>The longest wait, the opens and their summed waits reported within the window before <paramref name="now"/>.</summary>
    public OpenWaitSummary Summary(DateTimeOffset now)
    {
        Trim(now);
        return new OpenWaitSummary(_reports.Select(r => r.OpenWaitMaxSeconds).DefaultIfEmpty(0).Max(),
            _reports.Sum(r => (long)r.Opens), _reports.Sum(r => r.OpenWaitTotalSeconds));
    }

    private void Trim(DateTimeOffset now)
    {
        while (_reports.TryPeek(out var oldest) && now - oldest.At > Span) _reports.Dequeue();
    }
}

/// <summary>Open waits over a window; several leases' summaries add up to their tenant's.</summary>
public readonly record struct OpenWaitSummary(double MaxSeconds, long Opens, double TotalSeconds)
{
    public double MeanSeconds => Opens > 0 ? TotalSeconds / Opens : 0;

    public static OpenWaitSummary Of(IEnumerable<OpenWaitSummary> parts)
    {
        var all = parts.ToList();
        return new(all.Select(p => p.MaxSeconds).DefaultIfEmpty(0).Max(), all.Sum(p => p.Opens), all.Sum(p => p.TotalSeconds));
    }
}
