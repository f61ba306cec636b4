using ControlPlane.Postgres.Health;

namespace ControlPlane.Postgres.Capacity;

/// <summary>One database's size on an instance.</summary>
public sealed record DatabaseSize(string Name, long Bytes);

/// <summary>One table of the monitored database: its total size (indexes and TOAST included) and estimated rows.</summary>
public sealed record TableSize(string Schema, string Name, long Bytes, long Rows);

/// <summary>
/// Statistics of one shared table (schema <c>tenant_shared</c>, rows keyed by <c>tenant_id</c>): its total size, its
/// estimated rows, and the planner's statistics of the <c>tenant_id</c> column from the last ANALYZE (null fraction,
/// n_distinct as pg_stats gives it, most common values with their frequencies). Enough to estimate each tenant's share
/// without reading a row.
/// </summary>
public sealed record SharedTableStats(
    string Table, long Bytes, long Rows, double NullFraction, double DistinctValues,
    IReadOnlyList<string> CommonTenants, IReadOnlyList<double> CommonFrequencies);

/// <summary>
/// What one capacity sample read from one instance. Counters (transactions, WAL position) are cumulative: rates come
/// from two samples. <see cref="At"/> is the server's clock when it answered.
/// </summary>
public sealed record CapacityFacts(
    DateTimeOffset At,
    bool InRecovery,
    long DatabaseBytes,
    int Connections,
    int MaxConnections,
    long Transactions,
    long WalPosition,
    long XidAge,
    IReadOnlyList<DatabaseSize> Databases,
    IReadOnlyList<TableSize> Tables,
    IReadOnlyDictionary<string, long> TenantSchemaBytes,
    DiskReading? Disk)
{
    /// <summary>The shared tables keyed by tenant_id with their statistics (none when the tier has no shared tables).</summary>
    public IReadOnlyList<SharedTableStats> SharedTables { get; init; } = [];
}
