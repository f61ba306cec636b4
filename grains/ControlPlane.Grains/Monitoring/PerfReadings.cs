using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Monitoring;

namespace ControlPlane.Grains.Monitoring;

/// <summary>The metric readings of one sampling cycle of a replica, pure: what alert rules and the history see.</summary>
public static class PerfReadings
{
    public static IReadOnlyList<MetricObservation> Of(CheapSample cheap, HeavySample? heavy, IReadOnlyDictionary<long, StatementTrack>? tracks,
        ReplicaHealth? health, IReadOnlyDictionary<string, string> labels, CheapSample? previous = null)
    {
        ArgumentNullException.ThrowIfNull(cheap);
        var at = cheap.At;
        var readings = new List<MetricObservation>
        {
            new(MonitoringMetrics.BlockedSessions, labels, cheap.BlockedSessions, at),
            new(MonitoringMetrics.LongestTransactionSeconds, labels, cheap.Transactions.Select(t => t.TransactionAgeSeconds).DefaultIfEmpty(0).Max(), at),
            new(MonitoringMetrics.LongestIdleInTransactionSeconds, labels,
                cheap.Transactions.Where(t => t.IdleInTransaction).Select(t => t.StateAgeSeconds).DefaultIfEmpty(0).Max(), at),
            new(MonitoringMetrics.XidWraparoundAge, labels, cheap.XidAge, at),
            new(MonitoringMetrics.SlotRetainedWalBytes, labels, cheap.Slots.Select(s => (double)(s.RetainedBytes ?? 0)).DefaultIfEmpty(0).Max(), at),
            new(MonitoringMetrics.CacheHitRatio, labels, cheap.CacheHitRatio, at),
        };
        readings.AddRange(ActivityReadings.OfCheap(cheap, previous, labels));
        if (health is { Reachable: true })
        {
            readings.Add(new(MonitoringMetrics.ReplicaLagSeconds, labels, health.ReplayLagSeconds ?? 0, at));
            if (health.MaxConnections > 0) readings.Add(new(MonitoringMetrics.ConnectionsUsedRatio, labels, (double)health.Connections / health.MaxConnections, at));
        }
        if (heavy is not null)
        {
            readings.Add(new(MonitoringMetrics.InvalidIndexes, labels, heavy.Indexes.Count(i => !i.Valid), heavy.At));
            if (tracks is not null) readings.Add(new(MonitoringMetrics.StatementRegressions, labels, tracks.Values.Count(t => t.Regressed), heavy.At));
            readings.AddRange(ActivityReadings.OfHeavy(heavy, labels));
        }
        return readings;
    }
}
