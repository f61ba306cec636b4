namespace ControlPlane.Grains.Monitoring;

/// <summary>
/// The rules every environment starts with, for the conditions every PostgreSQL operator pages on. An environment
/// may replace one by defining a rule with the same name, or disable it.
/// </summary>
public static class DefaultAlertRules
{
    private const string Runbook = "docs/monitoring.md#";

    public static readonly IReadOnlyList<AlertRule> All =
    [
        Rule("ReplicaLagHigh", MonitoringMetrics.ReplicaLagSeconds, AlertComparison.Above, 30, TimeSpan.FromMinutes(1), AlertSeverity.Warning,
            "A standby replays more than 30 s behind its primary."),
        Rule("XidWraparoundNear", MonitoringMetrics.XidWraparoundAge, AlertComparison.Above, 1_000_000_000, TimeSpan.Zero, AlertSeverity.Critical,
            "A database is more than a billion transactions from its last freeze: vacuum it before PostgreSQL forces it."),
        Rule("BlockedSessions", MonitoringMetrics.BlockedSessions, AlertComparison.Above, 0, TimeSpan.FromMinutes(1), AlertSeverity.Warning,
            "Sessions have waited on locks for more than a minute."),
        Rule("LongTransaction", MonitoringMetrics.LongestTransactionSeconds, AlertComparison.Above, 600, TimeSpan.FromMinutes(1), AlertSeverity.Warning,
            "A transaction has been open for more than ten minutes: it holds back vacuum and may hold locks."),
        Rule("IdleInTransaction", MonitoringMetrics.LongestIdleInTransactionSeconds, AlertComparison.Above, 120, TimeSpan.FromMinutes(1), AlertSeverity.Warning,
            "A session has sat idle inside a transaction for more than two minutes."),
        Rule("SlotRetainingWal", MonitoringMetrics.SlotRetainedWalBytes, AlertComparison.Above, 1024d * 1024 * 1024, TimeSpan.FromMinutes(5), AlertSeverity.Warning,
            "A replication slot keeps more than 1 GiB of WAL: its consumer is gone or behind."),
        Rule("ConnectionsNearMax", MonitoringMetrics.ConnectionsUsedRatio, AlertComparison.Above, 0.85, TimeSpan.FromMinutes(2), AlertSeverity.Warning,
            "More than 85 % of max_connections are in use."),
        Rule("InvalidIndex", MonitoringMetrics.InvalidIndexes, AlertComparison.Above, 0, TimeSpan.Zero, AlertSeverity.Warning,
            "An index is invalid (a failed concurrent build): it costs writes and serves no reads."),
        Rule("BackupTooOld", MonitoringMetrics.BackupAgeSeconds, AlertComparison.Above, 26 * 3600, TimeSpan.Zero, AlertSeverity.Critical,
            "The newest successful base backup is more than 26 hours old."),
        Rule("ArchiveRpoOverTarget", MonitoringMetrics.ArchiveRpoOverTarget, AlertComparison.Above, 1, TimeSpan.FromMinutes(1), AlertSeverity.Critical,
            "The WAL archive's recovery point is over the tier's RPO target."),
        Rule("TierNotWritable", MonitoringMetrics.TierWritable, AlertComparison.Below, 1, TimeSpan.FromMinutes(1), AlertSeverity.Critical,
            "Writes on the tier's primary have failed for more than a minute (the SLA's write probe)."),
        Rule("SlaErrorBudgetLow", MonitoringMetrics.SlaErrorBudgetRemaining, AlertComparison.Below, 0.25, TimeSpan.Zero, AlertSeverity.Warning,
            "Less than a quarter of the tier's 30-day error budget is left."),
        Rule("ReplicaDataMismatch", MonitoringMetrics.ConsistencyMismatchedRanges, AlertComparison.Above, 0, TimeSpan.Zero, AlertSeverity.Critical,
            "A standby's rows differ from its primary's at the same LSN (labels: table, replica, key ranges), or a cross-tier pair disagrees."),
        Rule("CapacityForecastShort", MonitoringMetrics.CapacityDaysToLimit, AlertComparison.Below, 14, TimeSpan.FromMinutes(30), AlertSeverity.Warning,
            "A capacity resource is forecast to reach its limit within 14 days (cpctl capacity TIER shows which and why)."),
        Rule("CoverageAreaDegraded", MonitoringMetrics.CoverageFailingItems, AlertComparison.Above, 0, TimeSpan.Zero, AlertSeverity.Warning,
            "An operational area of the tier has failing evidence (cpctl coverage names the item and the command that fixes it).",
            "docs/operability.md#"),
        Rule("SchemaDrift", MonitoringMetrics.SchemaDriftDifferences, AlertComparison.Above, 0, TimeSpan.Zero, AlertSeverity.Warning,
            "A tenant schema differs from its tier's template schema (cpctl parity status names it; cpctl parity diff shows how and the script)."),
        Rule("ReplicaDiskFull", MonitoringMetrics.ReplicaDiskFull, AlertComparison.AtLeast, 1, TimeSpan.Zero, AlertSeverity.Critical,
            "A replica's disk is full: writes fail with disk_full (53100) or less than one WAL segment is left; a full primary is failed over to a standby with space.",
            "docs/failover.md#"),
        Rule("ReplicaCrashLoop", MonitoringMetrics.ReplicaCrashRestarts, AlertComparison.AtLeast, 3, TimeSpan.Zero, AlertSeverity.Critical,
            "PostgreSQL crashed and restarted itself in place at least 3 times in 5 minutes on a replica; a crash-looping primary is failed over.",
            "docs/failover.md#"),
        Rule("SynchronousStandbyLost", MonitoringMetrics.SynchronousStandbyLost, AlertComparison.AtLeast, 1, TimeSpan.Zero, AlertSeverity.Critical,
            "No synchronous standby streams from the tier's primary in synchronous mode: commits wait (strict), or the tier goes asynchronous after synchronous_degrade_after (on).",
            "docs/failover.md#"),
        Rule("DivergentWalSaved", MonitoringMetrics.DivergentWalSavedBytes, AlertComparison.AtLeast, 1, TimeSpan.Zero, AlertSeverity.Warning,
            "An old primary held WAL the new primary never received (labels: range, transactions, committed); it was saved before the rewind: read it with cpctl divergences and resolve by hand.",
            "docs/failover.md#"),
        .. DefaultActivityRules.All,
    ];

    internal static AlertRule Rule(string name, string metric, AlertComparison comparison, double threshold, TimeSpan @for, AlertSeverity severity, string summary,
        string runbook = Runbook) =>
        new(name, metric, comparison, threshold, @for, severity, new Dictionary<string, string>(), runbook + name.ToLowerInvariant(), summary);
}
