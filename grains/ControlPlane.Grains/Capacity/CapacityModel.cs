namespace ControlPlane.Grains.Capacity;

/// <summary>The resources a tier's capacity view tracks, by the names the API, the CLI and alert labels use.</summary>
public static class CapacityResources
{
    /// <summary>All databases of the primary together; limit: the tier's configured size limit.</summary>
    public const string DatabaseBytes = "database_bytes";
    /// <summary>The used space of the filesystem holding a replica's data directory; limit: its size.</summary>
    public const string DiskUsedBytes = "disk_used_bytes";
    /// <summary>The used space of the filesystem holding a replica's pg_wal, when that is a filesystem of its own; limit: its size.</summary>
    public const string WalDiskUsedBytes = "wal_disk_used_bytes";
    /// <summary>A tenant's data on the tier (label tenant): its schema, plus its estimated share of the shared tables.</summary>
    public const string TenantBytes = "tenant_bytes";
    /// <summary>Client backends of a replica; limit: its max_connections.</summary>
    public const string Connections = "connections";
    /// <summary>Connections granted to tenants by the tier's pool; limit: the pool's capacity.</summary>
    public const string PoolGranted = "pool_granted";
    /// <summary>age(datfrozenxid) of the oldest database of the primary; limit: where PostgreSQL stops assigning xids.</summary>
    public const string XidAge = "xid_age";
    public const string Tps = "tps";
    public const string WalBytesPerSecond = "wal_bytes_per_second";
    public const string Tenants = "tenants";

    /// <summary>2^31 minus the three million transactions PostgreSQL keeps in reserve before it refuses new ones.</summary>
    public const double WraparoundLimit = 2_147_483_648d - 3_000_000d;

    public static readonly IReadOnlyList<string> All = [DatabaseBytes, DiskUsedBytes, WalDiskUsedBytes, Connections, PoolGranted, XidAge, Tps, WalBytesPerSecond, Tenants, TenantBytes];
}

/// <summary>One sample of one series: the value and, when the resource has one, its limit at that moment. <see cref="Tenant"/>: the tenant a per-tenant series belongs to.</summary>
public sealed record CapacityReading(string Resource, string Replica, DateTimeOffset At, double Value, double? Limit, string LimitSource, string Tenant = "");

/// <summary>The persisted history of one series (<see cref="Replica"/> empty: the tier as a whole).</summary>
[GenerateSerializer, Alias("controlplane.CapacitySeriesState")]
public sealed class CapacitySeriesState
{
    [Id(0)] public string Resource { get; set; } = "";
    [Id(1)] public string Replica { get; set; } = "";
    [Id(2)] public TimeSpan Resolution { get; set; }
    [Id(3)] public List<CapacityPoint> Points { get; set; } = [];
    [Id(4)] public double? Limit { get; set; }
    [Id(5)] public string LimitSource { get; set; } = "";
    [Id(6)] public string Tenant { get; set; } = "";
}

/// <summary>Persistent part of the capacity grain: every series' downsampled history.</summary>
[GenerateSerializer, Alias("controlplane.CapacityState")]
public sealed class CapacityState
{
    [Id(0)] public List<CapacitySeriesState> Series { get; set; } = [];
    [Id(1)] public DateTimeOffset? LastSampledAt { get; set; }
}

/// <summary>One series with its history and forecast, as the view shows it.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.CapacitySeries")]
public sealed record CapacitySeries(
    [property: Id(0)] string Resource,
    [property: Id(1)] string Replica,
    [property: Id(2)] double Current,
    [property: Id(3)] double? Limit,
    [property: Id(4)] string LimitSource,
    [property: Id(5)] TimeSpan Resolution,
    [property: Id(6)] IReadOnlyList<CapacityPoint> History,
    [property: Id(7)] Forecast Forecast,
    [property: Id(8)] string Tenant = "");

/// <summary>The newest sample of one replica, in words the operator reads.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ReplicaCapacity")]
public sealed record ReplicaCapacity(
    [property: Id(0)] string Replica,
    [property: Id(1)] bool Primary,
    [property: Id(2)] long DatabaseBytes,
    [property: Id(3)] int Connections,
    [property: Id(4)] int MaxConnections,
    [property: Id(5)] double Tps,
    [property: Id(6)] double WalBytesPerSecond,
    [property: Id(7)] long XidAge,
    [property: Id(8)] long? DiskTotalBytes,
    [property: Id(9)] long? DiskFreeBytes,
    [property: Id(10)] string Error = "",
    [property: Id(11)] long? WalDiskTotalBytes = null,
    [property: Id(12)] long? WalDiskFreeBytes = null)
{
    /// <summary>Free / size of the data directory's filesystem; null when it was not read.</summary>
    public double? DiskFreeRatio => DiskTotalBytes is > 0 && DiskFreeBytes is { } free ? (double)free / DiskTotalBytes.Value : null;

    /// <summary>Free / size of pg_wal's filesystem (the data directory's unless pg_wal links elsewhere); null when it was not read.</summary>
    public double? WalDiskFreeRatio => WalDiskTotalBytes is > 0 && WalDiskFreeBytes is { } free ? (double)free / WalDiskTotalBytes.Value : null;
}

[GenerateSerializer, Immutable, Alias("controlplane.CapacityTable")]
public sealed record CapacityTable([property: Id(0)] string Schema, [property: Id(1)] string Name, [property: Id(2)] long Bytes, [property: Id(3)] long Rows);

/// <summary>
/// A tenant's data on the tier: <see cref="SchemaBytes"/> its own schema (measured), <see cref="SharedBytes"/> its
/// estimated share of the shared tables (<see cref="TenantShares"/>), <see cref="Bytes"/> both. <see cref="Measured"/>
/// false when neither could be read (no schema, shared tables never analysed).
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.TenantCapacity")]
public sealed record TenantCapacity(
    [property: Id(0)] string Tenant,
    [property: Id(1)] long Bytes,
    [property: Id(2)] bool Measured,
    [property: Id(3)] long SchemaBytes = 0,
    [property: Id(4)] long SharedBytes = 0);

[GenerateSerializer, Alias("controlplane.RecommendationKind")]
public enum RecommendationKind
{
    AddStandby = 0,
    RaiseCapacity = 1,
    MoveTenant = 2,
    PartitionTable = 3,
    VacuumFreeze = 4,
}

/// <summary>A scaling recommendation: what to do, to what (a replica, a table, a tenant, a resource), and why in numbers.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.CapacityRecommendation")]
public sealed record CapacityRecommendation(
    [property: Id(0)] RecommendationKind Kind,
    [property: Id(1)] string Subject,
    [property: Id(2)] string Reason);

/// <summary>What the tier costs a month at the configured prices, now and with the storage forecast 30 days out.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.CapacityCost")]
public sealed record CapacityCost(
    [property: Id(0)] double PricePerGbMonth,
    [property: Id(1)] double PricePerVcpuHour,
    [property: Id(2)] int Replicas,
    [property: Id(3)] double Vcpus,
    [property: Id(4)] double StorageGb,
    [property: Id(5)] double StoragePerMonth,
    [property: Id(6)] double ComputePerMonth,
    [property: Id(7)] double TotalPerMonth,
    [property: Id(8)] double StorageGbIn30Days,
    [property: Id(9)] double TotalPerMonthIn30Days);

/// <summary>A tier's capacity view: replicas now, every series with its forecast, the biggest tables and tenants, recommendations, cost.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.CapacityReport")]
public sealed record CapacityReport(
    [property: Id(0)] string Environment,
    [property: Id(1)] string Tier,
    [property: Id(2)] DateTimeOffset? SampledAt,
    [property: Id(3)] IReadOnlyList<ReplicaCapacity> Replicas,
    [property: Id(4)] IReadOnlyList<CapacitySeries> Series,
    [property: Id(5)] IReadOnlyList<CapacityTable> Tables,
    [property: Id(6)] IReadOnlyList<TenantCapacity> Tenants,
    [property: Id(7)] IReadOnlyList<CapacityRecommendation> Recommendations,
    [property: Id(8)] CapacityCost Cost);
