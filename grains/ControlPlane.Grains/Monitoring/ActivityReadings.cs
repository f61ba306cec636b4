using ControlPlane.Postgres.Monitoring;

namespace ControlPlane.Grains.Monitoring;

/// <summary>
/// The readings of the server-activity families, pure: checkpoints, WAL and temp files from the cheap sample (rates
/// from the one before it), bloat and partitions (with the days left before a time-range
/// scheme's newest partition ends) from the heavy one. A rate needs two samples and skips a counter that
/// went backwards (a restart, a statistics reset, a standby promoted onto another timeline's position).
/// </summary>
public static class ActivityReadings
{
    /// <summary>The requested-checkpoint ratio means little over a handful of checkpoints (a base backup asks for one).</summary>
    public const int RatioMinimumCheckpoints = 10;

    public static IEnumerable<MetricObservation> OfCheap(CheapSample cheap, CheapSample? previous, IReadOnlyDictionary<string, string> labels)
    {
        ArgumentNullException.ThrowIfNull(cheap);
        if (cheap.Counters is not { } c) yield break;
        var at = cheap.At;
        yield return new(MonitoringMetrics.CheckpointsTimed, labels, c.CheckpointsTimed, at);
        yield return new(MonitoringMetrics.CheckpointsRequested, labels, c.CheckpointsRequested, at);
        var checkpoints = c.CheckpointsTimed + c.CheckpointsRequested;
        if (checkpoints >= RatioMinimumCheckpoints)
            yield return new(MonitoringMetrics.CheckpointsRequestedRatio, labels, (double)c.CheckpointsRequested / checkpoints, at);
        yield return new(MonitoringMetrics.CheckpointWriteSeconds, labels, c.CheckpointWriteMs / 1000, at);
        yield return new(MonitoringMetrics.CheckpointSyncSeconds, labels, c.CheckpointSyncMs / 1000, at);
        yield return new(MonitoringMetrics.WalBytes, labels, c.WalPositionBytes, at);
        yield return new(MonitoringMetrics.TempFiles, labels, c.TempFiles, at);
        yield return new(MonitoringMetrics.TempBytes, labels, c.TempBytes, at);
        if (previous is { Counters: { } p })
        {
            if (Rate(c.WalPositionBytes, p.WalPositionBytes, at - previous.At) is { } wal) yield return new(MonitoringMetrics.WalBytesPerSecond, labels, wal, at);
            if (Rate(c.TempBytes, p.TempBytes, at - previous.At) is { } temp) yield return new(MonitoringMetrics.TempBytesPerSecond, labels, temp, at);
        }
    }

    public static IEnumerable<MetricObservation> OfHeavy(HeavySample heavy, IReadOnlyDictionary<string, string> labels)
    {
        ArgumentNullException.ThrowIfNull(heavy);
        var at = heavy.At;
        yield return new(MonitoringMetrics.TableBloatBytes, labels, heavy.TableBloat.Sum(b => b.BloatBytes), at);
        yield return new(MonitoringMetrics.IndexBloatBytes, labels, heavy.IndexBloat.Sum(b => b.BloatBytes), at);
        foreach (var table in heavy.PartitionedTables)
        {
            var parent = new Dictionary<string, string>(labels, StringComparer.Ordinal) { ["parent"] = table.QualifiedName };
            yield return new(MonitoringMetrics.Partitions, parent, table.Partitions, at);
            if (table.HasDefault) yield return new(MonitoringMetrics.PartitionDefaultRows, parent, table.DefaultRows, at);
            if (table.RangeEnd is { } end)
            {
                // The end bound as a value, not a label: a label would change the alert's identity when a partition is
                // added, and the alert on the old bound would never see the reading that resolves it.
                yield return new(MonitoringMetrics.PartitionRangeDaysLeft, parent, (end - at).TotalDays, at);
                yield return new(MonitoringMetrics.PartitionRangeEndSeconds, parent, end.ToUnixTimeSeconds(), at);
            }
        }
    }

    /// <summary>Per second between two readings of a cumulative counter; null when it cannot be one.</summary>
    public static double? Rate(long now, long before, TimeSpan elapsed) =>
        elapsed > TimeSpan.Zero && now >= before ? (now - before) / elapsed.TotalSeconds : null;
}
