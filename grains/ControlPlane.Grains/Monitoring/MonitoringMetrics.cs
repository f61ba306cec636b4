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
    public const string SynchronousStandbyLost = "synchronous_standby_lost";
    public const string DivergentWalSavedBytes = "divergent_wal_saved_bytes";
    public const string CheckpointsTimed = "checkpoints_timed";
    public const string CheckpointsRequested = "checkpoints_requested";
    public const string CheckpointsRequestedRatio = "checkpoints_requested_ratio";
    public const string CheckpointWriteSeconds = "checkpoint_write_seconds";
    public const string CheckpointSyncSeconds = "checkpoint_sync_seconds";
    public const string WalBytes = "wal_bytes";
    public const string WalBytesPerSecond = "wal_bytes_per_second";
    public const string TempFiles = "temp_files";
    public const string TempBytes = "temp_bytes";
    public const string TempBytesPerSecond = "temp_bytes_per_second";
    public const string TableBloatBytes = "table_bloat_bytes";
    public const string IndexBloatBytes = "index_bloat_bytes";
    public const string Partitions = "partitions";
    public const string PartitionDefaultRows = "partition_default_rows";
    public const string PartitionRangeDaysLeft = "partition_range_days_left";
    public const string PartitionRangeEndSeconds = "partition_range_end_seconds";
    public const string DataDirectoryFreeRatio = "data_directory_free_ratio";
    public const string BackupFailed = "backup_failed";
    public const string BackupRepositoryUnavailable = "backup_repository_unavailable";
    public const string WalArchiveGapsUnbridged = "wal_archive_gaps_unbridged";
    public const string BackupDrillFailed = "backup_drill_failed";
    public const string BackupDrillAgeSeconds = "backup_drill_age_seconds";
    public const string BackupDrillRtoOverTarget = "backup_drill_rto_over_target";
    public const string PoolOverrunLeases = "pool_overrun_leases";
    public const string PoolLeakSuspects = "pool_leak_suspects";
    public const string PoolWaitingOpens = "pool_waiting_opens";
    public const string PoolGrantedRatio = "pool_granted_ratio";
    public const string PoolOpenWaitSeconds = "pool_open_wait_seconds";
    public const string TenantIsolationLeaks = "tenant_isolation_leaks";
    public const string TenantIsolationAuditCritical = "tenant_isolation_audit_critical";

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
        new(SynchronousStandbyLost, "replica", "bool", "In synchronous mode, 1 on each standby while none of the tier's standbys confirms commits (all lost); 0 otherwise (docs/failover.md#synchronous-mode)."),
        new(DivergentWalSavedBytes, "replica", "bytes", "Bytes of WAL an old primary held past the new primary's fork, saved before it was rewound (labels range, timeline, transactions, committed; docs/failover.md#divergent-old-primary)."),
        new(CheckpointsTimed, "replica", "checkpoints", "Checkpoints started by checkpoint_timeout since the statistics were reset (cumulative)."),
        new(CheckpointsRequested, "replica", "checkpoints", "Checkpoints requested (max_wal_size reached, CHECKPOINT, base backups) since the statistics were reset (cumulative)."),
        new(CheckpointsRequestedRatio, "replica", "ratio", "Requested checkpoints / all checkpoints since the reset, once there were at least 10 (high: max_wal_size too small)."),
        new(CheckpointWriteSeconds, "replica", "s", "Time checkpoints spent writing buffers since the reset (cumulative)."),
        new(CheckpointSyncSeconds, "replica", "s", "Time checkpoints spent in fsync since the reset (cumulative)."),
        new(WalBytes, "replica", "bytes", "Current WAL position in bytes (the replayed one on a standby); its rate is the WAL generated."),
        new(WalBytesPerSecond, "replica", "bytes/s", "WAL generated (replayed on a standby) per second between the last two samples."),
        new(TempFiles, "replica", "files", "Temporary files created by queries over all databases since the reset (cumulative)."),
        new(TempBytes, "replica", "bytes", "Bytes written to temporary files over all databases since the reset (cumulative)."),
        new(TempBytesPerSecond, "replica", "bytes/s", "Bytes spilled to temporary files per second between the last two samples."),
        new(TableBloatBytes, "replica", "bytes", "Estimated reclaimable bytes in the monitored database's tables (pages minus what the live rows need; heavy family)."),
        new(IndexBloatBytes, "replica", "bytes", "Estimated reclaimable bytes in the monitored database's B-tree indexes (heavy family)."),
        new(Partitions, "replica", "partitions", "Partitions of a partitioned table (label parent; heavy family)."),
        new(PartitionDefaultRows, "replica", "rows", "Live rows in a partitioned table's default partition (label parent): rows no partition took, the next partition is missing."),
        new(PartitionRangeDaysLeft, "replica", "days", "Days until the newest partition of a time-range partitioned table ends (label parent; RANGE on one date/timestamp column; heavy family): past it, rows need the next partition."),
        new(PartitionRangeEndSeconds, "replica", "unix s", "Upper bound of that newest partition as Unix seconds (label parent; heavy family)."),
        new(DataDirectoryFreeRatio, "tier", "ratio", "Free space / size of the filesystem holding a replica's data directory (label replica; capacity sampler)."),
        new(BackupFailed, "tier", "bool", "1 when the tier's newest finished base backup failed."),
        new(BackupRepositoryUnavailable, "tier", "bool", "1 while the backup repository cannot be written (full, unreachable)."),
        new(WalArchiveGapsUnbridged, "tier", "gaps", "Gaps in the WAL archive (WAL the server removed before it was archived) that no restorable base backup lies after: no point-in-time restore reaches past them."),
        new(BackupDrillFailed, "tier", "bool", "1 when the tier's newest finished restore drill failed."),
        new(BackupDrillAgeSeconds, "tier", "s", "Seconds since the tier's newest passing restore drill finished (reported once a drill has run)."),
        new(BackupDrillRtoOverTarget, "tier", "ratio", "RTO of the newest passing drill / the tier's RTO target (above 1: over target)."),
        new(PoolOverrunLeases, "tier", "leases", "Leases holding more connections than granted."),
        new(PoolLeakSuspects, "tier", "connections", "Leased connections idle in transaction past the leak-suspect threshold."),
        new(PoolWaitingOpens, "tier", "opens", "Opens waiting for a pooled connection, as the tenants' client libraries report."),
        new(PoolGrantedRatio, "tier", "ratio", "Connections granted to leases / the pool's capacity."),
        new(PoolOpenWaitSeconds, "tier", "seconds", "Longest wait for a connection any tenant's client library reported in the last minute (the grant's slots busy, or the primary slow to accept sessions)."),
        new(TenantIsolationLeaks, "tier", "attempts", "Cross-tenant attempts that succeeded in the tenant's last probe (label tenant; 0 after a clean probe)."),
        new(TenantIsolationAuditCritical, "tier", "findings", "Critical findings of the tier's last isolation audit (0 after a clean audit; docs/tenants.md, isolation audit)."),
    ];

    public static bool IsKnown(string name) => All.Any(m => m.Name == name);
}
