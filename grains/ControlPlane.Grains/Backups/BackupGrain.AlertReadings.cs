using ControlPlane.Grains.Monitoring;

namespace ControlPlane.Grains.Backups;

/// <summary>
/// The tier's backup facts as metric readings for the alert rules (docs/monitoring.md): age of the newest successful
/// base backup, the archive's RPO and its ratio to the target. Reported every few ticks; the alert grain decides.
/// </summary>
public sealed partial class BackupGrain
{
    private const int ReadingsEveryTicks = 5;

    private async Task ReportAlertReadingsAsync(DateTimeOffset now)
    {
        if (_ticks % ReadingsEveryTicks != 0) return;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["environment"] = _env, ["tier"] = _tier };
        var readings = new List<MetricObservation>();
        var newest = S.Backups.Where(b => b.State == BackupState.Succeeded && b.FinishedAt is not null).MaxBy(b => b.FinishedAt);
        if (newest?.FinishedAt is { } finished) readings.Add(new(MonitoringMetrics.BackupAgeSeconds, labels, (now - finished).TotalSeconds, now));
        var policy = Policy;
        if (policy.ArchiveWal && _archiveStatus.MeasuredAt != DateTimeOffset.MinValue)
        {
            readings.Add(new(MonitoringMetrics.ArchiveRpoSeconds, labels, _archiveStatus.Rpo.TotalSeconds, now));
            readings.Add(new(MonitoringMetrics.ArchiveRpoOverTarget, labels, _archiveStatus.Rpo / policy.RpoTarget, now));
        }
        if (readings.Count > 0) await GrainFactory.GetGrain<IAlertGrain>(_env).Report(readings);
    }
}
