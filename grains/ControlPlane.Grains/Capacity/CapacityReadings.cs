using ControlPlane.Grains.Pools;
using ControlPlane.Postgres.Capacity;
using ControlPlane.Postgres.Tenants;

namespace ControlPlane.Grains.Capacity;

/// <summary>One replica's sample of a round: its facts, the ones before (for rates), or why it could not be read.</summary>
public sealed record ReplicaSample(string Replica, CapacityFacts? Facts, CapacityFacts? Previous, string Error = "");

/// <summary>
/// Turns one round of samples into the readings of the tier's series, pure. Tier-wide series (sizes, wraparound, WAL
/// rate) come from the primary, the one replica not in recovery; per-replica series (connections, TPS, disk) from
/// each replica that answered; per-tenant sizes from the primary. Rates need two samples of the same replica and skip a counter that went backwards
/// (a restart, a statistics reset).
/// </summary>
public static class CapacityReadings
{
    public static IReadOnlyList<CapacityReading> Of(
        string tier, IReadOnlyList<ReplicaSample> samples, PoolBudget? pool, int? tenants, CapacityTierOptions options, DateTimeOffset now,
        IReadOnlyList<TenantCapacity>? tenantSizes = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(options);
        var readings = new List<CapacityReading>();
        foreach (var s in samples.Where(s => s.Facts is not null))
        {
            var f = s.Facts!;
            readings.Add(new(CapacityResources.Connections, s.Replica, f.At, f.Connections, f.MaxConnections > 0 ? f.MaxConnections : null, "max_connections"));
            if (Tps(s) is { } tps) readings.Add(new(CapacityResources.Tps, s.Replica, f.At, tps, null, ""));
            if (f.Disk?.DataDirectory is { } data)
                readings.Add(new(CapacityResources.DiskUsedBytes, s.Replica, f.At, data.UsedBytes, data.TotalBytes, $"size of the filesystem of {data.Path}"));
            // pg_wal on the data directory's filesystem is already counted there; a series of its own only when it is not.
            if (f.Disk is { WalOnOwnFilesystem: true, Wal: { } wal })
                readings.Add(new(CapacityResources.WalDiskUsedBytes, s.Replica, f.At, wal.UsedBytes, wal.TotalBytes, $"size of the filesystem of {wal.Path}"));
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
        var at = Primary(samples)?.Facts?.At ?? now;
        foreach (var t in (tenantSizes ?? []).Where(t => t.Measured))
            readings.Add(new(CapacityResources.TenantBytes, "", at, t.Bytes, null, "", t.Tenant));
        return readings;
    }

    /// <summary>
    /// Each tenant's data as the primary's sample shows it, largest first: its schema <c>tenant_&lt;name&gt;</c>
    /// (measured) plus its share of the shared tables estimated from their statistics (<see cref="TenantShares"/>).
    /// </summary>
    public static IReadOnlyList<TenantCapacity> Tenants(IReadOnlyList<string> tenants, CapacityFacts? primary) =>
        [.. tenants.Select(t => Tenant(t, primary)).OrderByDescending(t => t.Bytes).ThenBy(t => t.Tenant, StringComparer.Ordinal)];

    private static TenantCapacity Tenant(string tenant, CapacityFacts? primary)
    {
        if (primary is null) return new TenantCapacity(tenant, 0, false);
        string role;
        try
        {
            role = TenantProvisioner.RoleOf(tenant);
        }
        catch (ArgumentException)
        {
            return new TenantCapacity(tenant, 0, false);
        }
        var hasSchema = primary.TenantSchemaBytes.TryGetValue(role, out var schema);
        var shared = TenantShares.Bytes(primary.SharedTables, tenant, hasSchema);
        return new TenantCapacity(tenant, schema + (shared ?? 0), hasSchema || shared is not null, schema, shared ?? 0);
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
            f.InRecovery ? 0 : WalRate(sample) ?? 0, f.XidAge, f.Disk?.DataDirectory?.TotalBytes, f.Disk?.DataDirectory?.AvailableBytes, "",
            f.Disk?.Wal?.TotalBytes, f.Disk?.Wal?.AvailableBytes);
    }

    private static double? Rate(ReplicaSample sample, Func<CapacityFacts, long> counter)
    {
        if (sample is not { Facts: { } now, Previous: { } before }) return null;
        var seconds = (now.At - before.At).TotalSeconds;
        var delta = counter(now) - counter(before);
        return seconds > 0 && delta >= 0 ? delta / seconds : null;
    }
}
