using ControlPlane.Grains.Pools;
using Xunit;

namespace ControlPlane.Tests.Pools;

/// <summary>A lease's open waits kept for a minute of reports: a quiet interval does not hide the wait before it.</summary>
public sealed class OpenWaitWindowTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 8, 0, 0, TimeSpan.Zero);

    private static PoolStatsReport Report(int seconds, int opens, double max, double total) =>
        new(0, 0, 0, T0.AddSeconds(seconds), opens, max, total);

    [Fact]
    public void A_quiet_report_after_a_wait_keeps_the_wait_until_it_leaves_the_window()
    {
        var window = new OpenWaitWindow();
        window.Add(Report(0, 4, 1.2, 2.0));
        window.Add(Report(5, 0, 0, 0));

        var summary = window.Summary(T0.AddSeconds(6));
        Assert.Equal(1.2, summary.MaxSeconds);
        Assert.Equal(0.5, summary.MeanSeconds, 6);
        Assert.Equal(default, window.Summary(T0 + OpenWaitWindow.Span + TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void A_tenants_summary_is_the_longest_wait_and_the_mean_over_all_its_leases_opens()
    {
        var tenant = OpenWaitSummary.Of([new(0.3, 3, 0.6), new(2.0, 1, 2.0), default]);
        Assert.Equal(2.0, tenant.MaxSeconds);
        Assert.Equal(4, tenant.Opens);
        Assert.Equal(0.65, tenant.MeanSeconds, 6);
        Assert.Equal(0, OpenWaitSummary.Of([]).MeanSeconds);
    }
}
