using ControlPlane.Postgres.Monitoring;

namespace ControlPlane.Grains.Monitoring;

/// <summary>The cumulative counters last seen for a query id and its learned mean time per call.</summary>
public sealed record StatementTrack(long Calls, double TotalMs, double? BaselineMs, int Intervals, bool Regressed, double? IntervalMeanMs);

/// <summary>
/// Regression detection against a rolling baseline, per query id. pg_stat_statements is cumulative, so each heavy
/// sample yields an interval mean (time delta / calls delta). The baseline is an exponentially weighted mean of the
/// interval means; once it has <see cref="WarmIntervals"/> intervals, an interval whose mean is at least
/// <see cref="Factor"/> times the baseline (and above a noise floor) is a regression. A regressed interval is not
/// learned, so a query that stays slow stays reported until it is fast again or its statistics are reset.
/// </summary>
public sealed record StatementBaseline(double Factor = 5, double FloorMs = 1, int WarmIntervals = 2, double Weight = 0.3)
{
    public IReadOnlyDictionary<long, StatementTrack> Next(IReadOnlyDictionary<long, StatementTrack> before, IReadOnlyList<StatementStats> now)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(now);
        var next = new Dictionary<long, StatementTrack>();
        foreach (var s in now)
        {
            if (!before.TryGetValue(s.QueryId, out var track) || s.Calls < track.Calls)
            {
                // New, or its statistics were reset: start from here.
                next[s.QueryId] = new StatementTrack(s.Calls, s.TotalMs, null, 0, false, null);
                continue;
            }
            var calls = s.Calls - track.Calls;
            if (calls == 0)
            {
                next[s.QueryId] = track with { IntervalMeanMs = null };
                continue;
            }
            var mean = Math.Max(0, s.TotalMs - track.TotalMs) / calls;
            var regressed = track.BaselineMs is { } baseline && track.Intervals >= WarmIntervals && mean >= FloorMs && mean >= Factor * baseline;
            var learned = regressed ? track.BaselineMs : track.BaselineMs is { } b ? b + Weight * (mean - b) : mean;
            next[s.QueryId] = new StatementTrack(s.Calls, s.TotalMs, learned, regressed ? track.Intervals : track.Intervals + 1, regressed, mean);
        }
        return next;
    }
}
