using ControlPlane.Grains.Capacity;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Capacity;

public sealed class CapacityHistoryTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    [Fact]
    public void Samples_in_one_bucket_average_at_their_mean_time()
    {
        List<CapacityPoint> points = [];
        var resolution = Hour;
        foreach (var (minutes, value) in new[] { (0, 10.0), (20, 20.0), (40, 60.0) })
            (points, resolution) = CapacityHistory.Append(points, resolution, Start.AddMinutes(minutes), value, 100);

        var point = Assert.Single(points);
        Assert.Equal(30, point.Value);
        Assert.Equal(Start.AddMinutes(20), point.At);
        Assert.Equal(3, point.Count);
    }

    [Fact]
    public void A_sample_in_the_next_bucket_starts_a_new_point()
    {
        var (points, _) = CapacityHistory.Append([new CapacityPoint(Start, 1)], Hour, Start.AddMinutes(61), 2, 100);

        Assert.Equal(2, points.Count);
    }

    [Fact]
    public void Over_its_budget_the_history_doubles_its_resolution_and_merges_neighbours()
    {
        List<CapacityPoint> points = [];
        var resolution = Hour;
        for (var h = 0; h < 11; h++) (points, resolution) = CapacityHistory.Append(points, resolution, Start + Hour * h, h, 10);

        Assert.Equal(TimeSpan.FromHours(2), resolution);
        Assert.Equal(6, points.Count);
        Assert.Equal(0.5, points[0].Value);
        Assert.Equal(2, points[0].Count);
        Assert.Equal(10, points[^1].Value);
    }

    [Fact]
    public void A_sample_older_than_the_newest_point_is_dropped()
    {
        var (points, _) = CapacityHistory.Append([new CapacityPoint(Start + Hour * 5, 1)], Hour, Start, 2, 100);

        Assert.Equal(1, Assert.Single(points).Value);
    }

    [Fact]
    public void The_history_stays_within_its_budget_and_keeps_every_sample_in_its_mean()
    {
        Gen.Select(Gen.Int[1, 600], Gen.Int[10, 60], Gen.Int[1, 120])
            .Sample((samples, budget, minutesApart) =>
            {
                List<CapacityPoint> points = [];
                var resolution = Hour;
                for (var i = 0; i < samples; i++)
                    (points, resolution) = CapacityHistory.Append(points, resolution, Start.AddMinutes(i * minutesApart), i, budget);
                var mean = points.Sum(p => p.Value * p.Count) / points.Sum(p => p.Count);
                return points.Count <= budget
                    && points.Sum(p => p.Count) == samples
                    && Math.Abs(mean - (samples - 1) / 2.0) < 1e-6
                    && points.Zip(points.Skip(1)).All(pair => pair.First.At < pair.Second.At);
            });
    }
}
