namespace ControlPlane.Postgres.Monitoring;

/// <summary>A session in a lock wait, or one that others wait on. <see cref="BlockedBy"/> is pg_blocking_pids.</summary>
/// <param name="Locks">Its locks as <c>mode locktype relation</c>, the ungranted (awaited) ones prefixed <c>waits</c>.</param>
public sealed record LockSession(
    int Pid, string User, string Database, string ApplicationName, string State, string? WaitEventType,
    double? TransactionAgeSeconds, double? StateAgeSeconds, string Query, IReadOnlyList<int> BlockedBy, IReadOnlyList<string> Locks);

/// <summary>A client backend inside an open transaction, oldest first.</summary>
public sealed record OpenTransaction(int Pid, string User, string Database, string ApplicationName, string State,
    double TransactionAgeSeconds, double StateAgeSeconds, string Query)
{
    public bool IdleInTransaction => State.StartsWith("idle in transaction", StringComparison.Ordinal);
}

/// <summary>A replication slot and the WAL it keeps (null when it holds no restart position).</summary>
public sealed record SlotRetention(string Name, string Type, bool Active, string? WalStatus, long? RetainedBytes);

/// <summary>Cheap facts, read every probe cycle: locks, transactions, wraparound, slots, cache.</summary>
public sealed record CheapSample(
    DateTimeOffset At,
    IReadOnlyList<LockSession> LockSessions,
    IReadOnlyList<OpenTransaction> Transactions,
    string OldestDatabase,
    long XidAge,
    IReadOnlyList<SlotRetention> Slots,
    double CacheHitRatio,
    TimeSpan Duration)
{
    public int BlockedSessions => LockSessions.Count(s => s.BlockedBy.Count > 0);

    /// <summary>Checkpoints, WAL position, temp files; null when the server's views could not be read.</summary>
    public ServerCounters? Counters { get; init; }
}

/// <summary>One statement of pg_stat_statements, summed over users and databases for its query id.</summary>
public sealed record StatementStats(
    long QueryId, string Query, long Calls, double TotalMs, double MeanMs, long Rows,
    long SharedBlocksHit, long SharedBlocksRead, long TempBlocksWritten);

/// <summary>A table of the monitored database as pg_stat_user_tables counts it.</summary>
public sealed record TableScans(string Schema, string Table, long SeqScans, long SeqRowsRead, long IndexScans, long LiveRows, long SizeBytes);

/// <summary>An index with what the advice needs: its use, its definition, and its identity for duplicate detection.</summary>
/// <param name="Signature">Table, key columns, operator classes, expressions and predicate: equal signatures index the same thing.</param>
public sealed record IndexUsage(string Schema, string Table, string Index, long Scans, long SizeBytes, bool Unique, bool Primary, bool Valid,
    string Definition, string Signature);

/// <summary>Heavy facts, read every few minutes: statements, table scans, indexes of the monitored database.</summary>
public sealed record HeavySample(
    DateTimeOffset At,
    string Database,
    bool StatementsAvailable,
    IReadOnlyList<StatementStats> Statements,
    IReadOnlyList<TableScans> Tables,
    IReadOnlyList<IndexUsage> Indexes,
    TimeSpan Duration)
{
    public IReadOnlyList<BloatEstimate> TableBloat { get; init; } = [];
    public IReadOnlyList<BloatEstimate> IndexBloat { get; init; } = [];
    public IReadOnlyList<PartitionedTable> PartitionedTables { get; init; } = [];
}

/// <summary>
/// Cumulative server counters of the cheap family: checkpoints (times in ms, as PostgreSQL counts them), the WAL
/// position in bytes, temp files and bytes summed over databases. Rates come from two samples.
/// </summary>
public sealed record ServerCounters(
    long CheckpointsTimed, long CheckpointsRequested, double CheckpointWriteMs, double CheckpointSyncMs,
    long WalPositionBytes, long TempFiles, long TempBytes);

/// <summary>A relation's size and the bytes the statistics say its live rows do not need (an estimate).</summary>
public sealed record BloatEstimate(string Schema, string Name, long SizeBytes, long BloatBytes);

/// <summary>A partitioned table (the root of a hierarchy): its partitions and what its default partition holds.</summary>
public sealed record PartitionedTable(string Schema, string Table, int Partitions, bool HasDefault, long DefaultRows)
{
    public string QualifiedName => $"{Schema}.{Table}";

    /// <summary>For a time-range scheme (RANGE on one date/timestamp/timestamptz column): the upper bound of its newest
    /// partition, where rows start to need the next one; null for any other scheme, no partition yet, or an open end (MAXVALUE).</summary>
    public DateTimeOffset? RangeEnd { get; init; }
}
