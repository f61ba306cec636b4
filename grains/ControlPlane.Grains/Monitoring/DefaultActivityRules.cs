namespace ControlPlane.Grains.Monitoring;

/// <summary>
/// Default rules over the server-activity families and the tier facts that used to raise text alerts of their own
/// (pool overruns and leaks, failed backups and drills): one engine raises, silences and resolves them all.
/// Part of <see cref="DefaultAlertRules.All"/>.
/// </summary>
internal static class DefaultActivityRules
{
    private const double GiB = 1024d * 1024 * 1024;

    /// <summary>A week: the next partition is a DDL statement, but one that must land before the first row that needs it.</summary>
    public const double PartitionRangeWarningDays = 7;

    public static readonly IReadOnlyList<AlertRule> All =
    [
        DefaultAlertRules.Rule("TempSpillHeavy", MonitoringMetrics.TempBytesPerSecond, AlertComparison.Above, 10d * 1024 * 1024, TimeSpan.FromMinutes(10), AlertSeverity.Warning,
            "Queries have spilled more than 10 MiB/s to temporary files for ten minutes: work_mem too small for them, or a plan gone wrong."),
        DefaultAlertRules.Rule("CheckpointsMostlyRequested", MonitoringMetrics.CheckpointsRequestedRatio, AlertComparison.Above, 0.5, TimeSpan.FromHours(1), AlertSeverity.Warning,
            "Most checkpoints are forced by WAL volume rather than checkpoint_timeout: max_wal_size is too small for the write load."),
        DefaultAlertRules.Rule("TableBloatHigh", MonitoringMetrics.TableBloatBytes, AlertComparison.Above, 10 * GiB, TimeSpan.Zero, AlertSeverity.Warning,
            "Tables of the monitored database hold an estimated 10 GiB or more that their live rows do not need."),
        DefaultAlertRules.Rule("IndexBloatHigh", MonitoringMetrics.IndexBloatBytes, AlertComparison.Above, 5 * GiB, TimeSpan.Zero, AlertSeverity.Warning,
            "B-tree indexes of the monitored database hold an estimated 5 GiB or more than their entries need."),
        DefaultAlertRules.Rule("PartitionDefaultHasRows", MonitoringMetrics.PartitionDefaultRows, AlertComparison.Above, 0, TimeSpan.Zero, AlertSeverity.Warning,
            "Rows landed in a partitioned table's default partition: the partition they belong to is missing."),
        DefaultAlertRules.Rule("PartitionRangeEndingSoon", MonitoringMetrics.PartitionRangeDaysLeft, AlertComparison.Below, PartitionRangeWarningDays, TimeSpan.Zero, AlertSeverity.Warning,
            "The newest partition of a time-range partitioned table ends within 7 days (the alert's value: days left; partition_range_end_seconds: the bound): create the next partition."),
        DefaultAlertRules.Rule("DataDirectorySpaceLow", MonitoringMetrics.DataDirectoryFreeRatio, AlertComparison.Below, 0.1, TimeSpan.FromMinutes(5), AlertSeverity.Critical,
            "Less than 10 % of the filesystem holding a replica's data directory is free."),
        DefaultAlertRules.Rule("BackupFailed", MonitoringMetrics.BackupFailed, AlertComparison.Above, 0, TimeSpan.Zero, AlertSeverity.Critical,
            "The tier's newest base backup failed."),
        DefaultAlertRules.Rule("BackupRepositoryUnavailable", MonitoringMetrics.BackupRepositoryUnavailable, AlertComparison.Above, 0, TimeSpan.Zero, AlertSeverity.Critical,
            "The backup repository cannot be written (full or unreachable): backups and archiving stop."),
        DefaultAlertRules.Rule("WalArchiveGap", MonitoringMetrics.WalArchiveGapsUnbridged, AlertComparison.Above, 0, TimeSpan.Zero, AlertSeverity.Critical,
            "The WAL archive lost WAL the server removed before it was archived: no point-in-time restore reaches past the gap until a base backup taken after it succeeds (one starts at once)."),
        DefaultAlertRules.Rule("BackupDrillFailed", MonitoringMetrics.BackupDrillFailed, AlertComparison.Above, 0, TimeSpan.Zero, AlertSeverity.Critical,
            "The tier's newest restore drill failed: the backups may not restore."),
        DefaultAlertRules.Rule("BackupDrillStale", MonitoringMetrics.BackupDrillAgeSeconds, AlertComparison.Above, 8 * 86400, TimeSpan.Zero, AlertSeverity.Warning,
            "No restore drill has passed for more than eight days."),
        DefaultAlertRules.Rule("BackupDrillRtoOverTarget", MonitoringMetrics.BackupDrillRtoOverTarget, AlertComparison.Above, 1, TimeSpan.Zero, AlertSeverity.Warning,
            "The newest restore drill took longer than the tier's RTO target."),
        DefaultAlertRules.Rule("PoolLeaseOverrun", MonitoringMetrics.PoolOverrunLeases, AlertComparison.Above, 0, TimeSpan.Zero, AlertSeverity.Warning,
            "A lease holds more connections than it was granted."),
        DefaultAlertRules.Rule("PoolLeakSuspect", MonitoringMetrics.PoolLeakSuspects, AlertComparison.Above, 0, TimeSpan.Zero, AlertSeverity.Warning,
            "Leased connections sit idle in transaction past the leak-suspect threshold."),
        DefaultAlertRules.Rule("PoolOpenWaitHigh", MonitoringMetrics.PoolOpenWaitSeconds, AlertComparison.Above, 1, TimeSpan.FromMinutes(2), AlertSeverity.Warning,
            "A service waited more than a second for a connection for two minutes: its grant is too small for its concurrency, or the primary is slow to accept sessions."),
        DefaultAlertRules.Rule("TenantIsolationLeak", MonitoringMetrics.TenantIsolationLeaks, AlertComparison.Above, 0, TimeSpan.Zero, AlertSeverity.Critical,
            "A tenant's role reached another tenant's data in the cross-tenant probe."),
        DefaultAlertRules.Rule("TenantIsolationAuditCritical", MonitoringMetrics.TenantIsolationAuditCritical, AlertComparison.Above, 0, TimeSpan.Zero, AlertSeverity.Critical,
            "The tier's isolation audit found critical findings: the catalog lets a tenant reach another's data (cpctl tenant audit TIER)."),
    ];
}
