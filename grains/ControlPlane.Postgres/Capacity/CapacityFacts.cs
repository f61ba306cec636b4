namespace ControlPlane.Postgres.Capacity;

/// <summary>One database's size on an instance.</summary>
public sealed record DatabaseSize(string Name, long Bytes);

/// <summary>One table of the monitored database: its total size (indexes and TOAST included) and estimated rows.</summary>
public sealed record TableSize(string Schema, string Name, long Bytes, long Rows);

/// <summary>The filesystem of an instance's data directory, when the silo can see it.</summary>
public sealed record DiskUsage(string Path, long TotalBytes, long FreeBytes)
{
    public long UsedBytes => TotalBytes - FreeBytes;
}

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
    DiskUsage? Disk);
