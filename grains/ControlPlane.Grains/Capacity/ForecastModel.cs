namespace ControlPlane.Grains.Capacity;

/// <summary>Which model a forecast used: the one with the lower error on the held-out newest part of the history.</summary>
[GenerateSerializer, Alias("controlplane.ForecastMethod")]
public enum ForecastMethod
{
    /// <summary>Too little history to forecast.</summary>
    None = 0,
    /// <summary>Least-squares line through the history.</summary>
    Linear = 1,
    /// <summary>Additive Holt–Winters: level, trend and (with two weeks of history) weekly seasonality.</summary>
    HoltWinters = 2,
}

/// <summary>One projected point: the expected value and its 95 % band.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ForecastPoint")]
public sealed record ForecastPoint(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] double Value,
    [property: Id(2)] double Low,
    [property: Id(3)] double High);

/// <summary>
/// A forecast of one series against its limit. Days are counted from <see cref="AsOf"/> (the newest point).
/// <see cref="DaysToLimit"/> is null when the series does not reach the limit within the horizon (or has no limit);
/// <see cref="DaysLow"/>–<see cref="DaysHigh"/> is the 95 % interval (null high: possibly never).
/// Holdout errors are root-mean-square errors on the held-out newest points (NaN: the model was not tried).
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.Forecast")]
public sealed record Forecast(
    [property: Id(0)] ForecastMethod Method,
    [property: Id(1)] DateTimeOffset AsOf,
    [property: Id(2)] double Level,
    [property: Id(3)] double SlopePerDay,
    [property: Id(4)] double? Limit,
    [property: Id(5)] double? DaysToLimit,
    [property: Id(6)] double? DaysLow,
    [property: Id(7)] double? DaysHigh,
    [property: Id(8)] double LinearHoldoutError,
    [property: Id(9)] double HoltWintersHoldoutError,
    [property: Id(10)] bool Seasonal,
    [property: Id(11)] IReadOnlyList<ForecastPoint> Projection)
{
    public static Forecast Empty(DateTimeOffset asOf, double level, double? limit) =>
        new(ForecastMethod.None, asOf, level, 0, limit, null, null, null, double.NaN, double.NaN, false, []);
}

/// <summary>How far and how precisely to forecast.</summary>
/// <param name="HorizonDays">A limit further away than this is reported as not reached.</param>
/// <param name="ProjectionPoints">Points of the projected curve returned for charts.</param>
/// <param name="ProjectionDays">Span of the projected curve; 0: a quarter of the history's span.</param>
public sealed record ForecastSettings(double HorizonDays = 3650, int ProjectionPoints = 24, double ProjectionDays = 0)
{
    public static readonly ForecastSettings Default = new();
}

/// <summary>A fitted model, in grid steps: what it predicts h steps after the last fitted point, and its spread.</summary>
internal interface IFittedModel
{
    double Level { get; }
    /// <summary>Growth per grid step, seasonality aside.</summary>
    double Trend { get; }
    double Predict(double h);
    /// <summary>Standard error of the expected value h steps ahead (parameter uncertainty: the band the true curve lies in).</summary>
    double StandardError(double h);
    /// <summary>Bounds of the seasonal offsets (0 and 0 without seasonality).</summary>
    (double Min, double Max) SeasonalRange { get; }
}
