using ControlPlane.Grains.Failover;
using System.Diagnostics.Metrics;
using ControlPlane.Silo.Catalog;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace ControlPlane.Tests.Catalog;

public sealed class CatalogWriteSignalTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static CatalogStatus Up() => new(true, Start, "", null, 0, true, "embedded, 127.0.0.1:5433 database controlplane", 0, null, false, 0);

    [Fact]
    public void The_supervisor_calling_the_catalog_unreachable_marks_the_grains_writes_down_from_the_first_failed_check()
    {
        var writes = new CatalogWriteStatus();
        var s = Up();
        for (var i = 1; i <= 3; i++)
        {
            var next = CatalogReachability.Next(s, false, "timeout", Start.AddSeconds(i), unreachableAfter: 3);
            CatalogWriteSignal.Apply(s, next, writes);
            if (i < 3) Assert.Null(writes.DownSince);
            s = next;
        }
        Assert.Equal(Start.AddSeconds(1), writes.DownSince);
    }

    [Fact]
    public void The_catalog_answering_again_lets_the_grains_write_to_it()
    {
        var writes = new CatalogWriteStatus();
        var down = CatalogReachability.Next(Up(), false, "refused", Start.AddSeconds(1), unreachableAfter: 1);
        CatalogWriteSignal.Apply(Up(), down, writes);
        Assert.NotNull(writes.DownSince);
        var up = CatalogReachability.Next(down, true, "", Start.AddSeconds(5), unreachableAfter: 1);
        CatalogWriteSignal.Apply(down, up, writes);
        Assert.Null(writes.DownSince);
    }

    [Fact]
    public void A_grain_that_found_the_catalog_down_first_keeps_its_earlier_time_and_steady_readings_change_nothing()
    {
        var writes = new CatalogWriteStatus();
        writes.Down(Start);
        var down = CatalogReachability.Next(Up(), false, "refused", Start.AddSeconds(2), unreachableAfter: 1);
        CatalogWriteSignal.Apply(Up(), down, writes);
        Assert.Equal(Start, writes.DownSince);
        // A grain's own write went through while the supervisor still calls it unreachable: no new transition, no re-mark.
        writes.Up();
        var still = CatalogReachability.Next(down, false, "refused", Start.AddSeconds(3), unreachableAfter: 1);
        CatalogWriteSignal.Apply(down, still, writes);
        Assert.Null(writes.DownSince);
        // And a reachable catalog that stays reachable does not clear a grain's own finding.
        writes.Down(Start.AddSeconds(4));
        CatalogWriteSignal.Apply(Up(), Up(), writes);
        Assert.Equal(Start.AddSeconds(4), writes.DownSince);
    }

    [Fact]
    public void Catalog_health_passes_its_transitions_on_to_the_grains_writes()
    {
        var writes = new CatalogWriteStatus();
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var health = new CatalogHealth(services.GetRequiredService<IMeterFactory>(), true, "embedded", TimeProvider.System, writes);
        health.ReportCheck(false, "timeout", unreachableAfter: 2);
        Assert.Null(writes.DownSince);
        health.ReportCheck(false, "timeout", unreachableAfter: 2);
        Assert.NotNull(writes.DownSince);
        health.ReportCheck(true, "", unreachableAfter: 2);
        Assert.Null(writes.DownSince);
    }
}
