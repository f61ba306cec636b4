namespace ControlPlane.Grains.Capacity;

/// <summary>Least-squares line through a regular series (x = step index). Its band is the confidence band of the line itself.</summary>
internal sealed class LinearFit : IFittedModel
{
    private readonly double _intercept;
    private readonly double _slope;
    private readonly double _sigma;
    private readonly double _meanX;
    private readonly double _sxx;
    private readonly int _n;

    private LinearFit(double intercept, double slope, double sigma, double meanX, double sxx, int n) =>
        (_intercept, _slope, _sigma, _meanX, _sxx, _n) = (intercept, slope, sigma, meanX, sxx, n);

    public static LinearFit Fit(ReadOnlySpan<double> y)
    {
        var n = y.Length;
        var meanX = (n - 1) / 2.0;
        double meanY = 0;
        foreach (var v in y) meanY += v;
        meanY /= n;
        double sxy = 0, sxx = 0;
        for (var i = 0; i < n; i++)
        {
            var dx = i - meanX;
            sxy += dx * (y[i] - meanY);
            sxx += dx * dx;
        }
        var slope = sxx > 0 ? sxy / sxx : 0;
        var intercept = meanY - slope * meanX;
        double sse = 0;
        for (var i = 0; i < n; i++)
        {
            var r = y[i] - (intercept + slope * i);
            sse += r * r;
        }
        var sigma = n > 2 ? Math.Sqrt(sse / (n - 2)) : 0;
        return new LinearFit(intercept, slope, sigma, meanX, sxx, n);
    }

    public double Level => Predict(0);
    public double Trend => _slope;
    public (double Min, double Max) SeasonalRange => (0, 0);

    public double Predict(double h) => _intercept + _slope * (_n - 1 + h);

    public double StandardError(double h)
    {
        if (_sxx <= 0) return _sigma;
        var dx = _n - 1 + h - _meanX;
        return _sigma * Math.Sqrt(1.0 / _n + dx * dx / _sxx);
    }
}
