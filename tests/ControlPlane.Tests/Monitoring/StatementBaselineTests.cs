using ControlPlane.Grains.Monitoring;
using ControlPlane.Postgres.Monitoring;
using Xunit;

namespace ControlPlane.Tests.Monitoring;

public sealed class StatementBaselineTests
{
    private static readonly StatementBaseline Baseline = new(Factor: 5, FloorMs: 1);

    private static StatementStats Stats(long calls, double totalMs) => new(42, "SELECT 1", calls, totalMs, totalMs / Math.Max(1, calls), calls, 0, 0, 0);

    private static IReadOnlyDictionary<long, StatementTrack> Run(params (long Calls, double TotalMs)[] samples)
    {
        IReadOnlyDictionary<long, StatementTrack> tracks = new Dictionary<long, StatementTrack>();
        foreach (var (calls, total) in samples) tracks = Baseline.Next(tracks, [Stats(calls, total)]);
        return tracks;
    }

    [Fact]
    public void A_statement_five_times_slower_than_its_baseline_is_a_regression()
    {
        // 2 ms per call for three intervals, then 20 ms per call.
        var track = Run((100, 200), (200, 400), (300, 600), (400, 800), (500, 2800))[42];
        Assert.True(track.Regressed);
        Assert.Equal(20, track.IntervalMeanMs!.Value, 3);
        Assert.Equal(2, track.BaselineMs!.Value, 3);
    }

    [Fact]
    public void A_regressed_interval_is_not_learned_so_a_slow_statement_stays_reported()
    {
        var track = Run((100, 200), (200, 400), (300, 600), (400, 2600), (500, 4600))[42];
        Assert.True(track.Regressed);
        Assert.Equal(2, track.BaselineMs!.Value, 3);
    }

    [Fact]
    public void A_statement_faster_than_the_noise_floor_is_never_a_regression()
    {
        var track = Run((100, 1), (200, 2), (300, 3), (400, 53))[42];
        Assert.False(track.Regressed);
    }

    [Fact]
    public void No_regression_is_called_before_the_baseline_has_warmed_up()
    {
        var track = Run((100, 200), (200, 400), (300, 2400))[42];
        Assert.False(track.Regressed);
    }

    [Fact]
    public void Reset_statistics_start_the_statement_over()
    {
        var track = Run((100, 200), (200, 400), (300, 600), (10, 5000))[42];
        Assert.Null(track.BaselineMs);
        Assert.False(track.Regressed);
    }
}
