namespace ControlPlane.Grains.Capacity;

/// <summary>
/// Additive Holt–Winters on a regular series: level, trend and, when the history spans two seasons, a seasonal
/// offset per step of the season (a week). Smoothing parameters are chosen from a small grid by the one-step error,
/// which keeps the cost predictable (about a hundred passes over the series) and the choice deterministic.
/// </summary>
internal sealed class HoltWintersFit : IFittedModel
{
    private static readonly double[] Alphas = [0.1, 0.2, 0.4, 0.6, 0.8, 1.0];
    // β = 0 keeps the initial trend: right after a step change that is what follows the new level best.
    private static readonly double[] Betas = [0, 0.02, 0.1, 0.3, 0.6, 1.0];
    private static readonly double[] Gammas = [0.05, 0.2, 0.5];

    private readonly double _level;
    private readonly double _trend;
    private readonly double[] _season;
    private readonly int _last;
    private readonly double _sigma;
    private readonly double _alpha;
    private readonly double _beta;

    private HoltWintersFit(double level, double trend, double[] season, int last, double sigma, double alpha, double beta) =>
        (_level, _trend, _season, _last, _sigma, _alpha, _beta) = (level, trend, season, last, sigma, alpha, beta);

    /// <summary>Whether a season of <paramref name="seasonLength"/> steps can be fitted to <paramref name="points"/> points.</summary>
    public static bool CanBeSeasonal(int points, int seasonLength) => seasonLength >= 2 && points >= 2 * seasonLength;

    /// <summary>Fits the series; seasonal when <paramref name="seasonLength"/> allows it (otherwise Holt's linear trend).</summary>
    public static HoltWintersFit Fit(ReadOnlySpan<double> y, int seasonLength)
    {
        var m = CanBeSeasonal(y.Length, seasonLength) ? seasonLength : 0;
        var gammas = m > 0 ? Gammas : [0.0];
        (double Sse, double A, double B, double G) best = (double.PositiveInfinity, 1, 0, 0);
        foreach (var a in Alphas)
            foreach (var b in Betas)
                foreach (var g in gammas)
                {
                    var sse = Run(y, m, a, b, g, null, out _, out _);
                    if (sse < best.Sse - 1e-12 * Math.Abs(best.Sse)) best = (sse, a, b, g);
                }
        var season = new double[Math.Max(m, 1)];
        var final = Run(y, m, best.A, best.B, best.G, season, out var level, out var trend);
        var fitted = y.Length - Start(m);
        var sigma = fitted > 0 ? Math.Sqrt(final / fitted) : 0;
        return new HoltWintersFit(level, trend, m > 0 ? season : [], y.Length - 1, sigma, best.A, best.A * best.B);
    }

    public double Level => Predict(0);
    public double Trend => _trend;

    public (double Min, double Max) SeasonalRange => _season.Length == 0 ? (0, 0) : (_season.Min(), _season.Max());

    public double Predict(double h) => _level + h * _trend + Seasonal(h);

    /// <summary>
    /// The spread of the additive trend model h steps ahead: σ²·(1 + (h−1)(α² + αβh + β²h(2h−1)/6)), with β the
    /// trend's response to an error (α times the grid's β). Seasonality's own uncertainty is left out.
    /// </summary>
    public double StandardError(double h)
    {
        if (h <= 0) return 0;
        var k = h - 1;
        var variance = 1 + k * (_alpha * _alpha + _alpha * _beta * h + _beta * _beta * h * (2 * h - 1) / 6);
        return _sigma * Math.Sqrt(variance);
    }

    private double Seasonal(double h)
    {
        if (_season.Length == 0) return 0;
        var index = (long)(_last + Math.Floor(h)) % _season.Length;
        return _season[index];
    }

    private static int Start(int m) => m > 0 ? m : 1;

    /// <summary>One pass: the sum of squared one-step errors; the final state in the out parameters and <paramref name="season"/>.</summary>
    private static double Run(ReadOnlySpan<double> y, int m, double alpha, double beta, double gamma, double[]? season, out double level, out double trend)
    {
        Span<double> s = m > 0 ? (season ?? new double[m]).AsSpan(0, m) : [];
        if (m > 0)
        {
            double first = 0, second = 0;
            for (var i = 0; i < m; i++)
            {
                first += y[i];
                second += y[m + i];
            }
            first /= m;
            second /= m;
            trend = (second - first) / m;
            var centre = (m - 1) / 2.0;
            for (var i = 0; i < m; i++) s[i] = y[i] - (first + trend * (i - centre));
            level = first + trend * centre;
        }
        else
        {
            level = y[0];
            trend = y.Length > 1 ? y[1] - y[0] : 0;
        }
        double sse = 0;
        for (var t = Start(m); t < y.Length; t++)
        {
            var si = m > 0 ? s[t % m] : 0;
            var error = y[t] - (level + trend + si);
            sse += error * error;
            var previous = level;
            level = alpha * (y[t] - si) + (1 - alpha) * (level + trend);
            trend = beta * (level - previous) + (1 - beta) * trend;
            if (m > 0) s[t % m] = gamma * (y[t] - level) + (1 - gamma) * si;
        }
        return sse;
    }
}
