using ControlPlane.Grains.Capacity;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Capacity;

public sealed class ForecasterTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 2, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    /// <summary>Hourly points of <paramref name="value"/>(hours since the start).</summary>
    private static List<CapacityPoint> Hourly(int hours, Func<int, double> value) =>
        [.. Enumerable.Range(0, hours).Select(h => new CapacityPoint(Start + Hour * h, value(h)))];

    [Fact]
    public void Linear_growth_gives_the_exact_days_to_the_limit()
    {
        // 5 GB growing 100 MB an hour for two weeks; the limit is 100 GB.
        var history = Hourly(14 * 24, h => 5e9 + 1e8 * h);
        var forecast = Forecaster.Run(history, Hour, 1e11);

        var expectedDays = (1e11 - history[^1].Value) / 1e8 / 24;
        Assert.Equal(ForecastMethod.Linear, forecast.Method);
        Assert.Equal(expectedDays, forecast.DaysToLimit!.Value, 6);
        Assert.Equal(2.4e9, forecast.SlopePerDay, 0);
        Assert.Equal(history[^1].At, forecast.AsOf);
    }

    [Fact]
    public void Weekly_seasonality_is_fitted_by_holt_winters_with_a_lower_holdout_error_than_the_line()
    {
        // Growing 10 an hour, 400 lower on weekends, over five weeks; the limit is crossed on a weekday.
        static double Season(int h) => (h / 24 % 7) >= 5 ? -400 : 160;
        var history = Hourly(5 * 168, h => 10_000 + 10 * h + Season(h));
        var limit = 25_000d;
        var forecast = Forecaster.Run(history, Hour, limit);

        var trueHours = Enumerable.Range(history.Count, 10_000).First(h => 10_000 + 10 * h + Season(h) >= limit) - (history.Count - 1);
        Assert.Equal(ForecastMethod.HoltWinters, forecast.Method);
        Assert.True(forecast.Seasonal);
        Assert.True(forecast.HoltWintersHoldoutError < forecast.LinearHoldoutError / 2,
            $"Holt–Winters {forecast.HoltWintersHoldoutError} vs line {forecast.LinearHoldoutError}");
        Assert.InRange(forecast.DaysToLimit!.Value, trueHours / 24.0 - 0.5, trueHours / 24.0 + 0.5);
    }

    [Fact]
    public void After_a_step_change_the_forecast_follows_the_new_level_not_the_old_trend()
    {
        // Flat at 100, then a bulk load doubles it; the old history would make a line rise towards the limit.
        var history = Hourly(240, h => h < 120 ? 100 : 200);
        var forecast = Forecaster.Run(history, Hour, 300);

        Assert.Equal(ForecastMethod.HoltWinters, forecast.Method);
        Assert.Equal(200, forecast.Level, 3);
        Assert.Null(forecast.DaysToLimit);
    }

    [Fact]
    public void A_window_after_a_step_change_forecasts_from_the_new_trend_only()
    {
        var history = Hourly(240, h => h < 120 ? 100 : 100 + 5 * (h - 120));
        var recent = CapacityHistory.Since(history, history[^1].At - TimeSpan.FromHours(100));
        var forecast = Forecaster.Run(recent, Hour, 1000);

        Assert.Equal((1000 - history[^1].Value) / 5 / 24, forecast.DaysToLimit!.Value, 6);
    }

    [Fact]
    public void A_flat_series_never_reaches_its_limit()
    {
        var forecast = Forecaster.Run(Hourly(100, _ => 42), Hour, 100);

        Assert.Null(forecast.DaysToLimit);
        Assert.Null(forecast.DaysHigh);
    }

    [Fact]
    public void A_series_already_at_its_limit_is_zero_days_away()
    {
        var forecast = Forecaster.Run(Hourly(50, h => 100 + h), Hour, 120);

        Assert.Equal(0, forecast.DaysToLimit);
        Assert.Equal(0, forecast.DaysLow);
    }

    [Fact]
    public void Two_points_are_too_few_to_forecast()
    {
        var forecast = Forecaster.Run(Hourly(2, h => h), Hour, 10);

        Assert.Equal(ForecastMethod.None, forecast.Method);
        Assert.Null(forecast.DaysToLimit);
    }

    [Fact]
    public void Gaps_in_the_history_are_interpolated_onto_the_grid()
    {
        var history = Hourly(200, h => 1000 + 3 * h).Where((_, i) => i % 7 != 3).ToList();
        var forecast = Forecaster.Run(history, Hour, 2000);

        Assert.Equal((2000 - history[^1].Value) / 3 / 24, forecast.DaysToLimit!.Value, 6);
    }

    [Fact]
    public void Any_noiseless_line_is_forecast_exactly_and_inside_its_own_interval()
    {
        Gen.Select(Gen.Double[1, 1e9], Gen.Double[0.01, 1e7], Gen.Int[10, 400], Gen.Double[1.01, 50])
            .Sample((start, perHour, hours, headroom) =>
            {
                var history = Hourly(hours, h => start + perHour * h);
                var limit = history[^1].Value + perHour * 24 * headroom;
                var forecast = Forecaster.Run(history, Hour, limit);
                var days = forecast.DaysToLimit!.Value;
                return Math.Abs(days - headroom) <= 1e-6 * headroom
                    && forecast.DaysLow <= days && (forecast.DaysHigh is null || forecast.DaysHigh >= days);
            });
    }

    [Fact]
    public void The_95_percent_interval_covers_the_true_days_to_the_limit_in_at_least_nine_cases_of_ten()
    {
        // Noisy lines: the truth is where the noiseless line meets the limit.
        var random = new Random(15);
        const int cases = 300;
        var covered = 0;
        for (var i = 0; i < cases; i++)
        {
            var perHour = 1 + random.NextDouble() * 20;
            var noise = perHour * (0.5 + random.NextDouble() * 20);
            var hours = 48 + random.Next(400);
            var history = Hourly(hours, h => 1000 + perHour * h + noise * Gaussian(random));
            var trueNow = 1000 + perHour * (hours - 1);
            var limit = trueNow + perHour * 24 * (1 + random.NextDouble() * 30);
            var forecast = Forecaster.Run(history, Hour, limit);
            var truth = (limit - trueNow) / perHour / 24;
            if (forecast.DaysLow <= truth && (forecast.DaysHigh is null || truth <= forecast.DaysHigh)) covered++;
        }
        Assert.True(covered >= cases * 0.9, $"covered {covered} of {cases}");
    }

    [Fact]
    public void The_projection_starts_after_the_newest_point_and_widens()
    {
        var random = new Random(3);
        var forecast = Forecaster.Run(Hourly(100, h => 10 * h + Gaussian(random)), Hour, 5000);

        Assert.Equal(24, forecast.Projection.Count);
        Assert.All(forecast.Projection, p => Assert.True(p.At > forecast.AsOf && p.Low <= p.Value && p.Value <= p.High));
        Assert.True(forecast.Projection[^1].High - forecast.Projection[^1].Low > forecast.Projection[0].High - forecast.Projection[0].Low);
    }

    private static double Gaussian(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
