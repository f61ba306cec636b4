using ControlPlane.Grains.Health;

namespace ControlPlane.Grains.Monitoring;

/// <summary>The failure-mode readings of one replica report, pure: what the ReplicaDiskFull and ReplicaCrashLoop rules read.</summary>
public static class FailureModeReadings
{
    /// <summary>The window of <see cref="MonitoringMetrics.ReplicaCrashRestarts"/>: the tier's default crash-loop window.</summary>
    public static readonly TimeSpan CrashWindow = TimeSpan.FromMinutes(5);

    public static int RecentCrashes(ReplicaHealth health, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(health);
        return (health.CrashRestarts ?? []).Count(at => now - at <= CrashWindow);
    }

    /// <summary>The <c>DivergentWalSaved</c> reading of one saved divergence: its bytes, the range and counts as labels.</summary>
    public static MetricObservation Divergence(string environment, string tier, ControlPlane.Grains.Failover.DivergenceRecord record, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(record);
        return new(MonitoringMetrics.DivergentWalSavedBytes, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["environment"] = environment,
            ["tier"] = tier,
            ["replica"] = record.Replica,
            ["range"] = record.Range,
            ["timeline"] = record.Timeline.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["transactions"] = record.Transactions.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["committed"] = record.Committed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }, Math.Max(1, record.Bytes), now);
    }

    public static IReadOnlyList<MetricObservation> Of(string environment, string tier, string replica, ReplicaHealth health, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(health);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["environment"] = environment,
            ["tier"] = tier,
            ["replica"] = replica,
        };
        var readings = new List<MetricObservation>
        {
            new(MonitoringMetrics.ReplicaDiskFull, labels, health.DiskFull ? 1 : 0, now),
            new(MonitoringMetrics.ReplicaCrashRestarts, labels, RecentCrashes(health, now), now),
        };
        if (health.DiskAvailableBytes is { } available) readings.Add(new(MonitoringMetrics.ReplicaDiskAvailableBytes, labels, available, now));
        return readings;
    }
}
