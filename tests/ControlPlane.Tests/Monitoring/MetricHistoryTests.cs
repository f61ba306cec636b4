using ControlPlane.Grains.Monitoring;
using Xunit;

namespace ControlPlane.Tests.Monitoring;

public sealed class MetricHistoryTests
{
    [Fact]
    public void History_stays_bounded_however_many_readings_arrive()
    {
        var history = new MetricHistory(rawCapacity: 10, foldEvery: 5, foldedCapacity: 4);
        for (var i = 0; i < 10_000; i++) history.Add(DateTimeOffset.UnixEpoch.AddSeconds(i), i);
        Assert.True(history.Count <= 10 + 5 + 4);
        Assert.Equal(9999, history.Points()[^1].Mean);
    }

    [Fact]
    public void Folded_points_keep_mean_min_max_and_count()
    {
        var history = new MetricHistory(rawCapacity: 2, foldEvery: 3, foldedCapacity: 10);
        foreach (var v in new double[] { 1, 2, 6, 100, 100 }) history.Add(DateTimeOffset.UnixEpoch, v);
        var folded = history.Points()[0];
        Assert.Equal((3.0, 1.0, 6.0, 3), (folded.Mean, folded.Min, folded.Max, folded.Count));
    }
}
