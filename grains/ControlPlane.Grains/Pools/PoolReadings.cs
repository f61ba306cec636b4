using ControlPlane.Grains.Monitoring;

namespace ControlPlane.Grains.Pools;

/// <summary>
/// The pool's budget as metric readings for the alert rules, pure: overrunning leases and leak suspects (what used
/// to be the pool's own text alert), opens waiting for a connection and the longest wait, and the share of capacity granted.
/// </summary>
public static class PoolReadings
{
    public static IReadOnlyList<MetricObservation> Of(PoolBudget budget, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(budget);
        if (budget.SampledAt is null) return [];
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["environment"] = budget.Environment, ["tier"] = budget.Tier };
        var readings = new List<MetricObservation>
        {
            new(MonitoringMetrics.PoolOverrunLeases, labels, budget.Tenants.Sum(t => t.Overruns), now),
            new(MonitoringMetrics.PoolLeakSuspects, labels, budget.Tenants.Sum(t => t.LeakSuspects), now),
            new(MonitoringMetrics.PoolWaitingOpens, labels, budget.Tenants.Sum(t => t.Waiting), now),
            new(MonitoringMetrics.PoolOpenWaitSeconds, labels, budget.Tenants.Select(t => t.OpenWaitMaxSeconds).DefaultIfEmpty(0).Max(), now),
        };
        if (budget.Capacity > 0) readings.Add(new(MonitoringMetrics.PoolGrantedRatio, labels, (double)budget.Tenants.Sum(t => t.Granted) / budget.Capacity, now));
        return readings;
    }
}
