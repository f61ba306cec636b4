using ControlPlane.Grains.Monitoring;

namespace ControlPlane.Grains.Backups;

/// <summary>
/// The tier's backup facts as metric readings for the alert rules (docs/monitoring.md), pure: the newest backup's
/// age and outcome, the repository, the archive's RPO, and the newest drill's outcome, age and RTO. The alert engine
/// raises, silences and resolves what these say; the tier's one-line backup summary is only a view of the same facts.
/// </summary>
public static class BackupReadings
{
    public static IReadOnlyList<MetricObservation> Of(IReadOnlyDictionary<string, string> labels, BackupPolicy policy, ArchiveStatus archive,
        IReadOnlyList<BackupRecord> backups, IReadOnlyList<DrillRecord> drills, string repositoryProblem, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(backups);
        ArgumentNullException.ThrowIfNull(drills);
        var readings = new List<MetricObservation>();
        void Add(string metric, double value) => readings.Add(new(metric, labels, value, now));

        var newest = backups.Where(b => b.State == BackupState.Succeeded && b.FinishedAt is not null).MaxBy(b => b.FinishedAt);
        if (newest?.FinishedAt is { } finished) Add(MonitoringMetrics.BackupAgeSeconds, (now - finished).TotalSeconds);
        if (backups.LastOrDefault(b => b.State is BackupState.Succeeded or BackupState.Failed) is { } last)
            Add(MonitoringMetrics.BackupFailed, last.State == BackupState.Failed ? 1 : 0);
        Add(MonitoringMetrics.BackupRepositoryUnavailable, repositoryProblem.Length > 0 ? 1 : 0);
        if (policy.ArchiveWal) Add(MonitoringMetrics.WalArchiveGapsUnbridged, WalGapPolicy.Unbridged(archive.Gaps, backups).Count);
        if (policy.ArchiveWal && archive.MeasuredAt != DateTimeOffset.MinValue)
        {
            Add(MonitoringMetrics.ArchiveRpoSeconds, archive.Rpo.TotalSeconds);
            Add(MonitoringMetrics.ArchiveRpoOverTarget, archive.Rpo / policy.RpoTarget);
        }
        if (drills.LastOrDefault(d => d.Passed is not null) is { } drill)
        {
            Add(MonitoringMetrics.BackupDrillFailed, drill.Passed == true ? 0 : 1);
            if (drill is { Passed: true, Rto: { } rto }) Add(MonitoringMetrics.BackupDrillRtoOverTarget, rto / policy.RtoTarget);
        }
        var passed = drills.Where(d => d.Passed == true && d.FinishedAt is not null).MaxBy(d => d.FinishedAt);
        if (passed?.FinishedAt is { } drilled) Add(MonitoringMetrics.BackupDrillAgeSeconds, (now - drilled).TotalSeconds);
        return readings;
    }
}
