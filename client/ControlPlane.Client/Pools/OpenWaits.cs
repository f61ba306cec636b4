namespace ControlPlane.Client.Pools;

/// <summary>
/// How long the callers of one data source waited for their connections since the last statistics report: the open
/// count, the longest wait and the sum. Taken (and reset) by each report, so the control plane sees the last interval.
/// </summary>
internal sealed class OpenWaits
{
    private readonly Lock _lock = new();
    private int _opens;
    private double _maxSeconds;
    private double _totalSeconds;

    public void Record(TimeSpan waited)
    {
        var seconds = Math.Max(0, waited.TotalSeconds);
        lock (_lock)
        {
            _opens++;
            _totalSeconds += seconds;
            if (seconds > _maxSeconds) _maxSeconds = seconds;
        }
    }

    /// <summary>The interval's figures, and a fresh interval.</summary>
    public (int Opens, double MaxSeconds, double TotalSeconds) Take()
    {
        lock (_lock)
        {
            var taken = (_opens, _maxSeconds, _totalSeconds);
            (_opens, _maxSeconds, _totalSeconds) = (0, 0, 0);
            return taken;
        }
    }

    /// <summary>A report that could not be sent: its figures join the next interval rather than vanish.</summary>
    public void Restore((int Opens, double MaxSeconds, double TotalSeconds) taken)
    {
        lock (_lock)
        {
            _opens += taken.Opens;
            _totalSeconds += taken.TotalSeconds;
            if (taken.MaxSeconds > _maxSeconds) _maxSeconds = taken.MaxSeconds;
        }
    }
}
