using ControlPlane.Grains.Monitoring;
using ControlPlane.Postgres.Monitoring;
using Xunit;

namespace ControlPlane.Tests.Monitoring;

/// <summary>Checkpoints, WAL, temp files, bloat and partitions as readings, on fixed samples.</summary>
public sealed class ActivityReadingsTests
{
    private static readonly DateTimeOffset T0 = AlertPolicyTests.T0;
    private static readonly Dictionary<string, string> Labels = new() { ["environment"] = "local", ["tier"] = "oltp", ["replica"] = "oltp-1" };

    private static CheapSample Cheap(DateTimeOffset at, ServerCounters? counters) =>
        new(at, [], [], "postgres", 0, [], 1, TimeSpan.Zero) { Counters = counters };

    private static ServerCounters Counters(long timed = 4, long requested = 1, long wal = 1000, long tempBytes = 0) =>
        new(timed, requested, 1500, 250, wal, tempBytes > 0 ? 1 : 0, tempBytes);

    private static double Value(IEnumerable<MetricObservation> readings, string metric) => readings.Single(r => r.Metric == metric).Value;

    [Fact]
    public void Cumulative_counters_are_read_as_they_are_with_checkpoint_times_in_seconds()
    {
        var readings = ActivityReadings.OfCheap(Cheap(T0, Counters()), null, Labels).ToList();
        Assert.Equal(4, Value(readings, MonitoringMetrics.CheckpointsTimed));
        Assert.Equal(1, Value(readings, MonitoringMetrics.CheckpointsRequested));
        Assert.Equal(1.5, Value(readings, MonitoringMetrics.CheckpointWriteSeconds));
        Assert.Equal(0.25, Value(readings, MonitoringMetrics.CheckpointSyncSeconds));
        Assert.Equal(1000, Value(readings, MonitoringMetrics.WalBytes));
        Assert.All(readings, r => Assert.Same(Labels, r.Labels));
    }

    [Fact]
    public void Rates_need_a_previous_sample()
    {
        var readings = ActivityReadings.OfCheap(Cheap(T0, Counters()), null, Labels).ToList();
        Assert.DoesNotContain(readings, r => r.Metric is MonitoringMetrics.WalBytesPerSecond or MonitoringMetrics.TempBytesPerSecond);
    }

    [Fact]
    public void Wal_and_temp_rates_are_the_counter_deltas_per_second_between_two_samples()
    {
        var before = Cheap(T0, Counters(wal: 1000, tempBytes: 100));
        var now = Cheap(T0.AddSeconds(4), Counters(wal: 9000, tempBytes: 4100));
        var readings = ActivityReadings.OfCheap(now, before, Labels).ToList();
        Assert.Equal(2000, Value(readings, MonitoringMetrics.WalBytesPerSecond));
        Assert.Equal(1000, Value(readings, MonitoringMetrics.TempBytesPerSecond));
    }

    [Fact]
    public void A_counter_that_went_backwards_gives_no_rate()
    {
        var before = Cheap(T0, Counters(tempBytes: 5000));
        var reset = Cheap(T0.AddSeconds(1), Counters(tempBytes: 10));
        Assert.DoesNotContain(ActivityReadings.OfCheap(reset, before, Labels), r => r.Metric == MonitoringMetrics.TempBytesPerSecond);
    }

    [Fact]
    public void The_requested_checkpoint_ratio_waits_for_enough_checkpoints_to_mean_something()
    {
        Assert.DoesNotContain(ActivityReadings.OfCheap(Cheap(T0, Counters(timed: 3, requested: 6)), null, Labels),
            r => r.Metric == MonitoringMetrics.CheckpointsRequestedRatio);
        var readings = ActivityReadings.OfCheap(Cheap(T0, Counters(timed: 4, requested: 12)), null, Labels);
        Assert.Equal(0.75, Value(readings, MonitoringMetrics.CheckpointsRequestedRatio));
    }

    [Fact]
    public void A_sample_without_server_counters_reads_nothing_of_them()
    {
        Assert.Empty(ActivityReadings.OfCheap(Cheap(T0, null), Cheap(T0, Counters()), Labels));
    }

    [Fact]
    public void Bloat_is_summed_and_every_partitioned_table_is_its_own_series()
    {
        var heavy = new HeavySample(T0, "postgres", false, [], [], [], TimeSpan.Zero)
        {
            TableBloat = [new("public", "a", 8192 * 10, 8192 * 4), new("public", "b", 8192, 0)],
            IndexBloat = [new("public", "a_pkey", 8192 * 5, 8192)],
            PartitionedTables = [new("public", "events", 12, true, 30), new("app", "logs", 3, false, 0)],
        };
        var readings = ActivityReadings.OfHeavy(heavy, Labels).ToList();
        Assert.Equal(8192 * 4, Value(readings, MonitoringMetrics.TableBloatBytes));
        Assert.Equal(8192, Value(readings, MonitoringMetrics.IndexBloatBytes));
        var partitions = readings.Where(r => r.Metric == MonitoringMetrics.Partitions).ToDictionary(r => r.Labels["parent"], r => r.Value);
        Assert.Equal(new Dictionary<string, double> { ["public.events"] = 12, ["app.logs"] = 3 }, partitions);
        var defaultRows = Assert.Single(readings, r => r.Metric == MonitoringMetrics.PartitionDefaultRows);
        Assert.Equal("public.events", defaultRows.Labels["parent"]);
        Assert.Equal("oltp-1", defaultRows.Labels["replica"]);
        Assert.Equal(30, defaultRows.Value);
    }

    [Fact]
    public void A_time_range_scheme_reports_the_days_left_before_its_newest_partition_ends_and_the_bound_itself()
    {
        var end = T0.AddDays(3).AddHours(12);
        var heavy = new HeavySample(T0, "postgres", false, [], [], [], TimeSpan.Zero)
        {
            PartitionedTables = [new("public", "readings", 2, false, 0) { RangeEnd = end }, new("public", "by_id", 4, false, 0)],
        };
        var readings = ActivityReadings.OfHeavy(heavy, Labels).ToList();

        var days = Assert.Single(readings, r => r.Metric == MonitoringMetrics.PartitionRangeDaysLeft);
        Assert.Equal(("public.readings", 3.5), (days.Labels["parent"], days.Value));
        Assert.Equal(end.ToUnixTimeSeconds(), Assert.Single(readings, r => r.Metric == MonitoringMetrics.PartitionRangeEndSeconds).Value);
        // The bound is a value, never a label: adding a partition must resolve the same alert, not start another one.
        Assert.DoesNotContain(readings, r => r.Labels.Values.Contains(end.ToString("O")));
    }

    [Fact]
    public void A_time_range_scheme_already_past_its_end_reads_negative_days()
    {
        var heavy = new HeavySample(T0, "postgres", false, [], [], [], TimeSpan.Zero)
        {
            PartitionedTables = [new("public", "readings", 1, false, 0) { RangeEnd = T0.AddDays(-2) }],
        };
        Assert.Equal(-2, Assert.Single(ActivityReadings.OfHeavy(heavy, Labels), r => r.Metric == MonitoringMetrics.PartitionRangeDaysLeft).Value);
    }
}
