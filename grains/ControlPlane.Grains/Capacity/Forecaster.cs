namespace ControlPlane.Grains.Capacity;

/// <summary>
/// Forecasts one series against a limit, pure. The history is put on a regular grid of its resolution (interpolating
/// gaps), anchored at its newest point. Both models are fitted on all but the newest fifth, scored on that fifth
/// (root-mean-square error), and the better one is refitted on everything; a tie goes to the line, the simpler model.
/// Days to the limit are when the expected curve first reaches it; the interval is when its 95 % band first does
/// (earliest) and when the band's lower edge does (latest; null when that may never happen within the horizon).
/// </summary>
public static class Forecaster
{
    private const int MinimumPoints = 3;
    private const int MinimumForHoldout = 10;
    private const int ExactSteps = 512;
    private const double GrowthPerProbe = 1.02;
    private static readonly TimeSpan Week = TimeSpan.FromDays(7);

    public static Forecast Run(IReadOnlyList<CapacityPoint> history, TimeSpan resolution, double? limit, ForecastSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        settings ??= ForecastSettings.Default;
        if (history.Count == 0) return Forecast.Empty(DateTimeOffset.MinValue, 0, limit);
        var asOf = history[^1].At;
        var step = resolution > TimeSpan.Zero ? resolution : TimeSpan.FromHours(1);
        var y = Grid(history, step);
        if (y.Length < MinimumPoints) return Forecast.Empty(asOf, history[^1].Value, limit);

        var seasonLength = (int)Math.Round(Week / step);
        var holdout = y.Length >= MinimumForHoldout ? Math.Max(2, y.Length / 5) : 0;
        // Seasonal only when the training part alone spans two weeks, so both fits see the same model family.
        var season = HoltWintersFit.CanBeSeasonal(y.Length - holdout, seasonLength) ? seasonLength : 0;
        double linearError = double.NaN, holtError = double.NaN;
        if (holdout > 0)
        {
            var train = y.AsSpan(0, y.Length - holdout);
            var test = y.AsSpan(y.Length - holdout);
            linearError = Rmse(LinearFit.Fit(train), test);
            holtError = Rmse(HoltWintersFit.Fit(train, season), test);
        }
        var method = holtError < linearError - 1e-9 * Math.Max(1, Math.Abs(linearError)) ? ForecastMethod.HoltWinters : ForecastMethod.Linear;
        IFittedModel model = method == ForecastMethod.HoltWinters ? HoltWintersFit.Fit(y, season) : LinearFit.Fit(y);

        var stepDays = step.TotalDays;
        var z = Quantile(y.Length);
        var maxSteps = settings.HorizonDays / stepDays;
        double? days = null, low = null, high = null;
        if (limit is { } l)
        {
            days = ToDays(FirstReach(h => model.Predict(h), l, maxSteps), stepDays);
            low = ToDays(FirstReach(h => model.Predict(h) + z * model.StandardError(h), l, maxSteps), stepDays);
            high = ToDays(FirstReach(h => model.Predict(h) - z * model.StandardError(h), l, maxSteps), stepDays);
            // The band is around the expected curve, so its edges bracket the expected crossing.
            if (days is { } d)
            {
                low = Math.Min(low ?? d, d);
                if (high is { } hi) high = Math.Max(hi, d);
            }
        }
        var spanDays = (y.Length - 1) * stepDays;
        var projectionDays = settings.ProjectionDays > 0 ? settings.ProjectionDays : Math.Max(stepDays, spanDays / 4);
        var projection = new List<ForecastPoint>(settings.ProjectionPoints);
        for (var i = 1; i <= settings.ProjectionPoints; i++)
        {
            var h = projectionDays * i / settings.ProjectionPoints / stepDays;
            var value = model.Predict(h);
            var se = z * model.StandardError(h);
            projection.Add(new ForecastPoint(asOf + TimeSpan.FromDays(h * stepDays), value, value - se, value + se));
        }
        return new Forecast(method, asOf, model.Level, model.Trend / stepDays, limit, days, low, high, linearError, holtError, season > 0, projection);
    }

    /// <summary>
    /// The series on a regular grid of <paramref name="step"/> ending at its newest point, each grid value interpolated
    /// between the points around it.
    /// </summary>
    internal static double[] Grid(IReadOnlyList<CapacityPoint> history, TimeSpan step)
    {
        var first = history[0].At;
        var last = history[^1].At;
        var n = (int)Math.Min(1_000_000, Math.Floor((last - first) / step)) + 1;
        var y = new double[n];
        var j = history.Count - 1;
        for (var i = n - 1; i >= 0; i--)
        {
            var at = last - step * (n - 1 - i);
            while (j > 0 && history[j - 1].At >= at) j--;
            // history[j] is the oldest point at or after `at`; interpolate with the one before it.
            if (j == 0 || history[j].At == at) y[i] = history[j].Value;
            else
            {
                var (a, b) = (history[j - 1], history[j]);
                var f = (at - a.At) / (b.At - a.At);
                y[i] = a.Value + f * (b.Value - a.Value);
            }
        }
        return y;
    }

    /// <summary>The first step at which <paramref name="curve"/> reaches <paramref name="limit"/>: step by step close by,
    /// then in growing strides, refined by bisection between the last step below and the first at or above.</summary>
    private static double? FirstReach(Func<double, double> curve, double limit, double maxSteps)
    {
        if (curve(0) >= limit) return 0;
        double previous = 0;
        var h = 1.0;
        while (h <= maxSteps)
        {
            if (curve(h) >= limit)
            {
                var (lo, hi) = (previous, h);
                for (var i = 0; i < 64 && hi - lo > 1e-10 * Math.Max(1, hi); i++)
                {
                    var mid = (lo + hi) / 2;
                    if (curve(mid) >= limit) hi = mid;
                    else lo = mid;
                }
                return hi;
            }
            previous = h;
            h = h < ExactSteps ? h + 1 : h * GrowthPerProbe;
        }
        return null;
    }

    private static double? ToDays(double? steps, double stepDays) => steps * stepDays;

    private static double Rmse(IFittedModel model, ReadOnlySpan<double> actual)
    {
        double sum = 0;
        for (var h = 0; h < actual.Length; h++)
        {
            var e = actual[h] - model.Predict(h + 1);
            sum += e * e;
        }
        return Math.Sqrt(sum / actual.Length);
    }

    /// <summary>A two-sided 95 % quantile, widened for short histories the way Student's t is.</summary>
    private static double Quantile(int n) => 1.96 + 2.5 / Math.Max(1, n - 2);
}
