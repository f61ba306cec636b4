using ControlPlane.Grains.Monitoring;

namespace ControlPlane.Grains.Backups;

/// <summary>
/// Reports the tier's backup readings (<see cref="BackupReadings"/>) to the alert engine every few ticks, and at once
/// when the backup summary changes (a backup or drill just failed), so the engine's alert is not a few ticks late.
/// </summary>
public sealed partial class BackupGrain
{
    private const int ReadingsEveryTicks = 5;

    private Task ReportAlertReadingsAsync(DateTimeOffset now) =>
        _ticks % ReadingsEveryTicks == 0 ? ReportAlertReadingsNowAsync(now) : Task.CompletedTask;

    private async Task ReportAlertReadingsNowAsync(DateTimeOffset now)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["environment"] = _env, ["tier"] = _tier };
        var readings = BackupReadings.Of(labels, Policy, _archiveStatus, S.Backups, S.Drills, _repositoryProblem, now);
        if (readings.Count > 0) await GrainFactory.GetGrain<IAlertGrain>(_env).Report(readings);
    }
}
