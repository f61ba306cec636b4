using ControlPlane.Grains.Pools;
using ControlPlane.Postgres.Capacity;

namespace ControlPlane.Grains.Capacity;

/// <summary>One replica's sample of a round: its facts, the ones before (for rates), or why it could not be read.</summary>
public sealed record ReplicaSample(string Replica, CapacityFacts? Facts, CapacityFacts? Previous, string Error = "");

/// <summary>
/// Turns one round of samples into the readings of the tier's series, pure. Tier-wide series (sizes, wraparound, WAL
/// rate) come from the primary, the one replica not in recovery; per-replica series (connections, TPS, disk) from
/// each replica that answered. Rates need two samples of the same replica and skip a counter that went backwards
/// (a restart, a statistics reset).
/// </summary>
public static class CapacityReadings
{
    public static IReadOnlyList<CapacityReading> Of(
        string tier, IReadOnlyList<ReplicaSample> samples, PoolBudget? pool, int? tenants, CapacityTierOptions options, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(options);
        var readings = new List<CapacityReading>();
        foreach (var s in samples.Where(s => s.Facts is not null))
        {
            var f = s.Facts!;
            readings.Add(new(CapacityResources.Connections, s.Replica, f.At, f.Connections, f.MaxConnections > 0 ? f.MaxConnections : null, "max_connections"));
            if (Tps(s) is { } tps) readings.Add(new(CapacityResources.Tps, s.Replica, f.At, tps, null, ""));
            if (f.Disk is { } disk) readings.Add(new(CapacityResources.DiskUsedBytes, s.Replica, f.At, disk.UsedBytes, disk.TotalBytes, $"size of the filesystem of {disk.Path}"));
        }
        if (Primary(samples) is { Facts: { } p } primary)
        {
            readings.Add(new(CapacityResources.DatabaseBytes, "", p.At, p.DatabaseBytes, options.SizeLimitBytes,
                options.SizeLimitBytes is null ? "" : $"{CapacityOptions.Section}:Tiers:{tier}:SizeLimitBytes"));
            readings.Add(new(CapacityResources.XidAge, "", p.At, p.XidAge, CapacityResources.WraparoundLimit, "xid wraparound stop (2^31 - 3,000,000)"));
            if (WalRate(primary) is { } wal) readings.Add(new(CapacityResources.WalBytesPerSecond, "", p.At, wal, null, ""));
        }
        if (pool is { SampledAt: not null, Capacity: > 0 })
            readings.Add(new(CapacityResources.PoolGranted, "", now, pool.Tenants.Sum(t => t.Granted), pool.Capacity, "pool capacity"));
        if (tenants is { } count) readings.Add(new(CapacityResources.Tenants, "", now, count, null, ""));
        return readings;
    }

    /// <summary>The replica that answered and is not in recovery; null when none did.</summary>
    public static ReplicaSample? Primary(IReadOnlyList<ReplicaSample> samples) =>
        samples.FirstOrDefault(s => s.Facts is { InRecovery: false });

    public static double? Tps(ReplicaSample sample) => Rate(sample, f => f.Transactions);

    public static double? WalRate(ReplicaSample sample) => Rate(sample, f => f.WalPosition);

    /// <summary>What the view shows of one replica now.</summary>
    public static ReplicaCapacity View(ReplicaSample sample)
    {
        if (sample.Facts is not { } f) return new ReplicaCapacity(sample.Replica, false, 0, 0, 0, 0, 0, 0, null, null, sample.Error);
        return new ReplicaCapacity(sample.Replica, !f.InRecovery, f.DatabaseBytes, f.Connections, f.MaxConnections, Tps(sample) ?? 0,
            f.InRecovery ? 0 : WalRate(sample) ?? 0, f.XidAge, f.Disk?.TotalBytes, f.Disk?.FreeBytes);
    }

    private static double? Rate(ReplicaSample sample, Func<CapacityFacts, long> counter)
    {
        if (sample is not { Facts: { } now, Previous: { } before }) return null;
        var seconds = (now.At - before.At).TotalSeconds;
        var delta = counter(now) - counter(before);
        return seconds > 0 && delta >= 0 ? delta / seconds : null;
    }
}
