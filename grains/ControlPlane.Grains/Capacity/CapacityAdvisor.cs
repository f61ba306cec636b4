using System.Globalization;

namespace ControlPlane.Grains.Capacity;

/// <summary>
/// Recommendations and the cost view, pure. Every recommendation carries its numbers, so an operator can check the
/// reasoning: a resource forecast to reach its limit soon, standbys saturated by reads, a tenant holding most of a
/// shared tier, a table large enough that maintenance on it hurts.
/// </summary>
public static class CapacityAdvisor
{
    private const double GiB = 1024d * 1024 * 1024;
    private const double HoursPerMonth = 730;

    public static IReadOnlyList<CapacityRecommendation> Recommend(
        IReadOnlyList<CapacitySeries> series, IReadOnlyList<ReplicaCapacity> replicas, IReadOnlyList<CapacityTable> tables,
        IReadOnlyList<TenantCapacity> tenants, CapacityOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var result = new List<CapacityRecommendation>();
        foreach (var s in series.Where(s => s.Forecast.DaysToLimit is { } d && d <= options.RecommendWithinDays))
            result.Add(ForSoonLimit(s));

        var answering = replicas.Where(r => r.Error.Length == 0).ToList();
        if (answering.Count > 0)
        {
            var tpsPerReplica = answering.Sum(r => r.Tps) / answering.Count;
            var saturated = answering.Where(r => !r.Primary && r.MaxConnections > 0 && (double)r.Connections / r.MaxConnections > options.SaturatedConnections).ToList();
            if (tpsPerReplica > options.ReadTpsPerReplica)
                result.Add(new(RecommendationKind.AddStandby, "tier",
                    $"{F(tpsPerReplica)} transactions/s per replica over {answering.Count} replicas, above the {F(options.ReadTpsPerReplica)} one replica should serve; add a standby and route reads to it."));
            else if (saturated.Count > 0)
                result.Add(new(RecommendationKind.AddStandby, "tier",
                    $"standby {string.Join(", ", saturated.Select(r => $"{r.Replica} ({r.Connections}/{r.MaxConnections} connections)"))} above {F(options.SaturatedConnections * 100)} % of max_connections; add a standby to spread the reads."));
        }

        var databaseBytes = answering.FirstOrDefault(r => r.Primary)?.DatabaseBytes ?? 0;
        if (databaseBytes > 0 && tenants.Count(t => t.Measured) >= 2)
        {
            foreach (var t in tenants.Where(t => t.Measured && t.Bytes > options.HeavyTenantShare * databaseBytes))
                result.Add(new(RecommendationKind.MoveTenant, t.Tenant,
                    $"tenant {t.Tenant} holds {Bytes(t.Bytes)} of the tier's {Bytes(databaseBytes)} ({F(100.0 * t.Bytes / databaseBytes)} %), more than {F(options.HeavyTenantShare * 100)} %; move it to a tier of its own so its growth stops crowding the others."));
        }

        foreach (var t in tables.Where(t => t.Bytes > options.PartitionTableBytes))
            result.Add(new(RecommendationKind.PartitionTable, $"{t.Schema}.{t.Name}",
                $"table {t.Schema}.{t.Name} is {Bytes(t.Bytes)} ({t.Rows.ToString("N0", CultureInfo.InvariantCulture)} rows), above {Bytes(options.PartitionTableBytes)}; partition it (by time or tenant) so vacuum, indexes and retention work on parts."));
        return result;
    }

    public static CapacityCost Cost(CapacityTierOptions prices, int replicas, long databaseBytes, Forecast? storage)
    {
        ArgumentNullException.ThrowIfNull(prices);
        var gb = databaseBytes / GiB;
        var vcpus = prices.VcpusPerReplica * replicas;
        var storagePerMonth = gb * replicas * prices.PricePerGbMonth;
        var compute = vcpus * prices.PricePerVcpuHour * HoursPerMonth;
        var in30 = storage is { Method: not ForecastMethod.None } f ? Math.Max(gb, (f.Level + f.SlopePerDay * 30) / GiB) : gb;
        return new CapacityCost(prices.PricePerGbMonth, prices.PricePerVcpuHour, replicas, vcpus, gb, storagePerMonth, compute,
            storagePerMonth + compute, in30, in30 * replicas * prices.PricePerGbMonth + compute);
    }

    private static CapacityRecommendation ForSoonLimit(CapacitySeries s)
    {
        var f = s.Forecast;
        var when = $"reaches its limit {Value(s.Resource, f.Limit ?? 0)} ({s.LimitSource}) in {F(f.DaysToLimit ?? 0)} days (95 %: {F(f.DaysLow ?? 0)} to {(f.DaysHigh is { } h ? F(h) : "never")}), growing {Value(s.Resource, f.SlopePerDay)}/day";
        var subject = s.Replica.Length == 0 ? s.Resource : $"{s.Resource} on {s.Replica}";
        var target = Value(s.Resource, Math.Max(f.Limit ?? 0, s.Current + f.SlopePerDay * 90));
        return s.Resource switch
        {
            CapacityResources.XidAge => new(RecommendationKind.VacuumFreeze, subject,
                $"{s.Resource} {Value(s.Resource, s.Current)} {when}; run VACUUM (FREEZE) on the oldest database and check that autovacuum keeps up."),
            CapacityResources.Connections => new(RecommendationKind.RaiseCapacity, subject,
                $"{subject} {Value(s.Resource, s.Current)} {when}; raise max_connections to at least {target} or lower the pool's grants."),
            CapacityResources.PoolGranted => new(RecommendationKind.RaiseCapacity, subject,
                $"{subject} {Value(s.Resource, s.Current)} {when}; raise the pool's capacity to at least {target} (and max_connections with it)."),
            _ => new(RecommendationKind.RaiseCapacity, subject,
                $"{subject} {Value(s.Resource, s.Current)} {when}; raise it to at least {target} (90 days of growth)."),
        };
    }

    /// <summary>A value in the resource's unit: bytes as GiB/MiB, the rest as numbers.</summary>
    public static string Value(string resource, double value) =>
        resource is CapacityResources.DatabaseBytes or CapacityResources.DiskUsedBytes or CapacityResources.WalBytesPerSecond
            ? Bytes(value) : F(value);

    public static string Bytes(double bytes) => Math.Abs(bytes) >= GiB
        ? (bytes / GiB).ToString("0.##", CultureInfo.InvariantCulture) + " GiB"
        : (bytes / (1024 * 1024)).ToString("0.##", CultureInfo.InvariantCulture) + " MiB";

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
