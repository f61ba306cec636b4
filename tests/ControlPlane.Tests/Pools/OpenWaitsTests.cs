using ControlPlane.Client.Pools;
using Xunit;

namespace ControlPlane.Tests.Pools;

/// <summary>The client library's per-interval open waits: what a report carries, and that a failed report loses nothing.</summary>
public sealed class OpenWaitsTests
{
    [Fact]
    public void A_report_takes_the_interval_and_starts_a_fresh_one()
    {
        var waits = new OpenWaits();
        waits.Record(TimeSpan.FromMilliseconds(20));
        waits.Record(TimeSpan.FromMilliseconds(900));
        waits.Record(TimeSpan.FromMilliseconds(80));

        var taken = waits.Take();
        Assert.Equal(3, taken.Opens);
        Assert.Equal(0.9, taken.MaxSeconds, 6);
        Assert.Equal(1.0, taken.TotalSeconds, 6);
        Assert.Equal((0, 0d, 0d), waits.Take());
    }

    [Fact]
    public void A_report_that_failed_joins_the_next_interval()
    {
        var waits = new OpenWaits();
        waits.Record(TimeSpan.FromSeconds(2));
        var failed = waits.Take();
        waits.Record(TimeSpan.FromMilliseconds(100));
        waits.Restore(failed);

        var next = waits.Take();
        Assert.Equal(2, next.Opens);
        Assert.Equal(2.0, next.MaxSeconds, 6);
        Assert.Equal(2.1, next.TotalSeconds, 6);
    }

    [Fact]
    public void A_clock_step_never_reports_a_negative_wait()
    {
        var waits = new OpenWaits();
        waits.Record(TimeSpan.FromMilliseconds(-5));
        var taken = waits.Take();
        Assert.Equal((1, 0d, 0d), taken);
    }
}
