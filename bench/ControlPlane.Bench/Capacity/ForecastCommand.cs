using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using ControlPlane.Bench.Common;
using ControlPlane.Grains.Capacity;

namespace ControlPlane.Bench.Capacity;

/// <summary>
/// <c>forecast</c>: the cost of forecasting N synthetic series of P hourly points each (a third linear with noise, a
/// third weekly-seasonal, a third with a step change), both models fitted and scored on the holdout, the better one
/// refitted, days to a limit with the interval: what a silo pays per capacity round. Pure CPU, no server.
/// </summary>
public static class ForecastCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var series = new Option<int>("--series") { Description = "Series to forecast", DefaultValueFactory = _ => 10_000 };
        var points = new Option<int>("--points") { Description = "Hourly points per series (1000 is a full history at the default MaxPoints)", DefaultValueFactory = _ => 1000 };
        var parallel = new Option<bool>("--parallel") { Description = "Spread the series over every core" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("forecast", "Forecast cost for N series of P points (linear, seasonal, step change)") { series, points, parallel, json };
        command.SetAction(async (parsed, ct) =>
        {
            var n = parsed.GetValue(series);
            var p = parsed.GetValue(points);
            if (n < 1 || p < 3)
            {
                await stderr.WriteLineAsync($"error: --series {n} / --points {p}: expected at least 1 series of at least 3 points.");
                return ExitCodes.Usage;
            }
            await stderr.WriteLineAsync($"load average before: {MachineInfo.LoadAverage()}");
            var result = Run(n, p, parsed.GetValue(parallel), ct);
            await stderr.WriteLineAsync($"load average after: {MachineInfo.LoadAverage()}");
            await stdout.WriteLineAsync(parsed.GetValue(json) ? JsonReport.Serialize(result) : result.Render());
            return ExitCodes.Ok;
        });
        return command;
    }

    public static ForecastResult Run(int count, int points, bool parallel, CancellationToken ct)
    {
        var start = new DateTimeOffset(2026, 10, 1, 0, 0, 0, TimeSpan.Zero);
        var histories = Enumerable.Range(0, count).Select(i => Series(i, points, start)).ToList();
        var methods = new ForecastMethod[count];
        var clock = Stopwatch.StartNew();
        var options = new ParallelOptions { CancellationToken = ct, MaxDegreeOfParallelism = parallel ? Environment.ProcessorCount : 1 };
        Parallel.For(0, count, options, i => methods[i] = Forecaster.Run(histories[i], TimeSpan.FromHours(1), 1e6).Method);
        clock.Stop();
        return new ForecastResult(count, points, parallel ? Environment.ProcessorCount : 1, clock.Elapsed.TotalSeconds,
            clock.Elapsed.TotalMilliseconds * 1000 / count, methods.Count(m => m == ForecastMethod.Linear), methods.Count(m => m == ForecastMethod.HoltWinters));
    }

    private static List<CapacityPoint> Series(int seed, int points, DateTimeOffset start)
    {
        var random = new Random(seed);
        var slope = random.NextDouble() * 20;
        var noise = 1 + random.NextDouble() * 50;
        var result = new List<CapacityPoint>(points);
        for (var h = 0; h < points; h++)
        {
            var value = (seed % 3) switch
            {
                0 => 1000 + slope * h,
                1 => 1000 + slope * h + ((h / 24 % 7) >= 5 ? -300 : 120),
                _ => 1000 + slope * h + (h > points * 2 / 3 ? 5000 : 0),
            };
            result.Add(new CapacityPoint(start.AddHours(h), value + noise * (random.NextDouble() - 0.5)));
        }
        return result;
    }
}

public sealed record ForecastResult(int Series, int Points, int Threads, double Seconds, double MicrosecondsPerSeries, int Linear, int HoltWinters)
{
    public string Render() => string.Create(CultureInfo.InvariantCulture,
        $"series {Series}, {Points} points each, {Threads} thread(s): {Seconds:0.00} s, {MicrosecondsPerSeries:0} µs per series ({Series / Seconds:0} series/s); chosen: linear {Linear}, holt-winters {HoltWinters}");
}
