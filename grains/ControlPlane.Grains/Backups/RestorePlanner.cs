namespace ControlPlane.Grains.Backups;

/// <summary>
/// Which base backup a restore starts from: the newest restorable one that ended before the target (recovery can only
/// move forward from a backup's end). A named restore point the control plane created is placed by its LSN; any
/// other name can only start from the newest backup, and recovery itself says when the name is not found. A gap in the
/// WAL archive between a backup and the target rules that backup out (<see cref="WalGapPolicy.Crossing"/>).
/// </summary>
public static class RestorePlanner
{
    public static (BackupRecord? Base, string Error) ChooseBase(
        IReadOnlyList<BackupRecord> backups, string? backupId, RestoreTargetSpec target, IReadOnlyList<RestorePointRecord> restorePoints,
        IReadOnlyList<WalGapRecord>? gaps = null)
    {
        gaps ??= [];
        ArgumentNullException.ThrowIfNull(backups);
        ArgumentNullException.ThrowIfNull(target);
        if (backupId is not null)
        {
            var chosen = backups.FirstOrDefault(b => b.Id == backupId);
            if (chosen is null) return (null, $"backup '{backupId}' not found");
            if (!chosen.Restorable) return (null, $"backup '{backupId}' is {chosen.State.ToString().ToLowerInvariant()} and cannot be restored");
            var problem = TooLate(chosen, target, restorePoints);
            if (problem.Length == 0) problem = WalGapPolicy.Crossing(chosen, target, gaps, restorePoints);
            return problem.Length > 0 ? (null, problem) : (chosen, "");
        }
        var candidates = backups.Where(b => b.Restorable).OrderByDescending(b => b.StopLsn).ThenByDescending(b => b.StartedAt).ToList();
        if (candidates.Count == 0) return (null, "the tier has no restorable backup yet; take one with StartBackup");
        var early = candidates.Where(b => TooLate(b, target, restorePoints).Length == 0).ToList();
        if (early.Count == 0)
            return (null, $"no restorable backup ended before the target {target}; the oldest ended at {candidates[^1].FinishedAt:O} (lsn {new Postgres.Health.Lsn(candidates[^1].StopLsn)})");
        var fit = early.FirstOrDefault(b => WalGapPolicy.Crossing(b, target, gaps, restorePoints).Length == 0);
        return fit is null
            ? (null, WalGapPolicy.Crossing(early[0], target, gaps, restorePoints) + "; restore to a target before the gap, or from a base backup taken after it")
            : (fit, "");
    }

    private static string TooLate(BackupRecord backup, RestoreTargetSpec target, IReadOnlyList<RestorePointRecord> points) => target.Kind switch
    {
        RestoreTargetKind.Time when backup.FinishedAt is { } end && end > target.Time
            => $"backup {backup.Id} ended at {end:O}, after the target time {target.Time:O}",
        RestoreTargetKind.Lsn when backup.StopLsn > target.Lsn
            => $"backup {backup.Id} ends at lsn {new Postgres.Health.Lsn(backup.StopLsn)}, after the target lsn {new Postgres.Health.Lsn(target.Lsn ?? 0)}",
        RestoreTargetKind.RestorePoint when points.FirstOrDefault(p => p.Name == target.Name) is { } point && backup.StopLsn > point.Lsn
            => $"backup {backup.Id} ends at lsn {new Postgres.Health.Lsn(backup.StopLsn)}, after restore point '{point.Name}' ({new Postgres.Health.Lsn(point.Lsn)})",
        _ => "",
    };
}
