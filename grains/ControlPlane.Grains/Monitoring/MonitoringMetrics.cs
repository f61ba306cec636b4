namespace ControlPlane.Grains.Monitoring;

/// <summary>A metric alert rules may read: its name, the source that reports it, its unit and meaning.</summary>
public sealed record MetricDefinition(string Name, string Source, string Unit, string Meaning);

/// <summary>
/// The metrics the control plane samples and alert rules may name. A rule naming anything else is refused: a typo
/// would otherwise be a rule that silently never fires.
/// </summary>
public static class MonitoringMetrics
{
    public const string ReplicaLagSeconds = "replica_lag_seconds";
    public const string ConnectionsUsedRatio = "connections_used_ratio";
    public const string XidWraparoundAge = "xid_wraparound_age";
    public const string BlockedSessions = "blocked_sessions";
    public const string LongestTransactionSeconds = "longest_transaction_seconds";
    public const string LongestIdleInTransactionSeconds = "longest_idle_in_transaction_seconds";
    public const string SlotRetainedWalBytes = "slot_retained_wal_bytes";
    public const string CacheHitRatio = "cache_hit_ratio";
    public const string StatementRegressions = "statement_regressions";
    public const string InvalidIndexes = "invalid_indexes";
    public const string BackupAgeSeconds = "backup_age_seconds";
    public const string ArchiveRpoSeconds = "archive_rpo_seconds";
    public const string ArchiveRpoOverTarget = "archive_rpo_over_target";
    public const string TierWritable = "tier_writable";
    public const string SlaErrorBudgetRemaining = "sla_error_budget_remaining_ratio";
    public const string ConsistencyMismatchedRanges = "consistency_mismatched_ranges";
    public const string CapacityDaysToLimit = "capacity_days_to_limit";
    public const string CoverageFailingItems = "coverage_failing_items";
    public const string SchemaDriftDifferences = "schema_drift_differences";
    public const string ReplicaDiskFull = "replica_disk_full";
    public const string ReplicaDiskAvailableBytes = "replica_disk_available_bytes";
    public const string ReplicaCrashRestarts = "replica_crash_restarts";

    public static readonly IReadOnlyList<MetricDefinition> All =
    [
        new(ReplicaLagSeconds, "replica", "s", "Seconds since the last replayed transaction while a standby is behind (0 on a primary or a caught-up standby)."),
        new(ConnectionsUsedRatio, "replica", "ratio", "Client backends divided by max_connections."),
        new(XidWraparoundAge, "replica", "xids", "age(datfrozenxid) of the oldest database: transactions until a freeze is forced at 2^31."),
        new(BlockedSessions, "replica", "sessions", "Sessions waiting on a lock another session holds (pg_blocking_pids)."),
        new(LongestTransactionSeconds, "replica", "s", "Age of the oldest open transaction of a client backend."),
        new(LongestIdleInTransactionSeconds, "replica", "s", "Longest time a session has sat idle inside an open transaction."),
        new(SlotRetainedWalBytes, "replica", "bytes", "WAL the most demanding replication slot keeps on disk (current LSN minus restart_lsn)."),
        new(CacheHitRatio, "replica", "ratio", "blks_hit / (blks_hit + blks_read) over all databases since the statistics were reset."),
        new(StatementRegressions, "replica", "statements", "Query ids whose mean time is now at least the regression factor above their rolling baseline."),
        new(InvalidIndexes, "replica", "indexes", "Indexes with indisvalid = false (a failed CREATE INDEX CONCURRENTLY)."),
        new(BackupAgeSeconds, "tier", "s", "Seconds since the tier's newest successful base backup ended."),
        new(ArchiveRpoSeconds, "tier", "s", "Measured recovery point of the tier's WAL archive."),
        new(ArchiveRpoOverTarget, "tier", "ratio", "Archive RPO divided by the tier's RPO target (above 1: over target)."),
        new(TierWritable, "tier", "bool", "1 when the SLA's last write on the tier's primary committed, 0 when it failed (docs/sla.md)."),
        new(SlaErrorBudgetRemaining, "tier", "ratio", "Share of the 30-day error budget left (1: untouched, 0: spent, negative: over)."),
        new(ConsistencyMismatchedRanges, "tier", "ranges", "Key ranges of a table whose rows differ between a standby and its primary (labels table, replica, ranges), or 1 for a disagreeing cross-tier pair (label pair)."),
        new(CapacityDaysToLimit, "tier", "days", "Forecast days until a capacity resource (label resource, and replica) reaches its limit; the horizon when it does not (docs/capacity.md)."),
        new(CoverageFailingItems, "tier", "items", "Failing evidence items of one operational area of the tier (label area; docs/operability.md)."),
        new(SchemaDriftDifferences, "tier", "differences", "Differences between a tenant schema (label schema) and its tier's template schema at the last drift check (docs/parity.md)."),
        new(ReplicaDiskFull, "replica", "bool", "1 when writes fail with disk_full (53100) or less than one WAL segment (16 MiB) is left on the data directory's or pg_wal's filesystem (docs/failover.md#failure-modes)."),
        new(ReplicaDiskAvailableBytes, "replica", "bytes", "Bytes left to PostgreSQL on the smaller of its data directory's and pg_wal's filesystems (statvfs on the host; host-local replicas only)."),
        new(ReplicaCrashRestarts, "replica", "restarts", "In-place crash restarts by PostgreSQL (restart_after_crash) in the last 5 minutes."),
    ];

    public static bool IsKnown(string name) => All.Any(m => m.Name == name);
}
