using ControlPlane.Grains.Monitoring;

namespace ControlPlane.Grains.Capacity;

/// <summary>
/// The free share of each replica's data-directory filesystem, as the capacity sampler measured it, for the
/// DataDirectorySpaceLow rule (pure). A replica whose disk could not be read (a remote server) reports nothing.
/// </summary>
public static class DiskReadings
{
    public static IEnumerable<MetricObservation> Of(string environment, string tier, IReadOnlyList<ReplicaCapacity> replicas, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(replicas);
        foreach (var r in replicas)
        {
            if (r is not { DiskTotalBytes: { } total and > 0, DiskFreeBytes: { } free }) continue;
            var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["environment"] = environment, ["tier"] = tier, ["replica"] = r.Replica };
            yield return new MetricObservation(MonitoringMetrics.DataDirectoryFreeRatio, labels, (double)free / total, now);
        }
    }
}
