using Cronos;

namespace ControlPlane.Grains.Backups;

/// <summary>
/// When the next backup or drill is due, and what retention may delete. Pure: the backup grain asks, persists the
/// answer, and acts. A run missed while the control plane was down is due once at once, never once per miss.
/// </summary>
public static class BackupPlanner
{
    /// <summary>The cron expression parsed, or an error naming the field and the value.</summary>
    public static CronExpression ParseSchedule(string field, string schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        try
        {
            return CronExpression.Parse(schedule, CronFormat.Standard);
        }
        catch (CronFormatException ex)
        {
            throw new ArgumentException($"{field} '{schedule}' is not a cron schedule of five fields (minute hour day month weekday): {ex.Message}", field, ex);
        }
    }

    /// <summary>
    /// The first occurrence after <paramref name="lastRun"/> (or after <paramref name="now"/> when nothing ran yet);
    /// when that occurrence is already past, the run is due now, once.
    /// </summary>
    public static DateTimeOffset NextDue(string schedule, DateTimeOffset? lastRun, DateTimeOffset now)
    {
        var cron = ParseSchedule("schedule", schedule);
        var from = lastRun ?? now;
        var next = cron.GetNextOccurrence(from.UtcDateTime, TimeZoneInfo.Utc)
            ?? throw new ArgumentException($"schedule '{schedule}' never fires", nameof(schedule));
        var due = new DateTimeOffset(next, TimeSpan.Zero);
        return due < now ? now : due;
    }

    /// <summary>
    /// Which scheduled jobs start now. A job is due at the first occurrence after its anchor (the last run, or when
    /// its schedule was set; none yet: nothing is due). A backup never starts while one runs; a drill never while a
    /// drill or a backup runs, nor before a restorable backup exists (then it waits for the first one).
    /// </summary>
    public static ScheduledJobs Due(BackupPolicy policy, ScheduleFacts facts, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(facts);
        var backup = policy.Schedule.Length > 0 && facts.BackupAnchor is { } backupAnchor && !facts.BackupRunning
            && NextDue(policy.Schedule, backupAnchor, now) <= now;
        // A due backup with nothing to copy from waits (its anchor stays): started now it would fail at once and the
        // missed run would be consumed until the next occurrence — right after a restart, before the first probes.
        var waiting = backup && facts.SourceMissing is { Length: > 0 } missing ? missing : "";
        if (waiting.Length > 0) backup = false;
        var drill = policy.DrillSchedule.Length > 0 && facts.DrillAnchor is { } drillAnchor && !facts.DrillRunning && !facts.BackupRunning
            && !backup && waiting.Length == 0 && facts.HasRestorableBackup && NextDue(policy.DrillSchedule, drillAnchor, now) <= now;
        return new ScheduledJobs(backup, drill) { BackupWaiting = waiting };
    }

    /// <summary>
    /// Keeps the newest <see cref="BackupPolicy.KeepLast"/> restorable backups, every restorable backup the recovery
    /// window needs (those taken inside it, plus the newest one taken before it, which is the base for recovering
    /// to the window's start), and the newest verified backup whatever the rules say. Failed backups are deleted;
    /// running ones are kept. WAL older than the oldest kept backup's start is no longer needed.
    /// </summary>
    public static RetentionPlan Retain(BackupPolicy policy, IReadOnlyList<BackupRecord> backups, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(backups);
        var reasons = new List<string>();
        backups = backups.Where(b => b.State != BackupState.Deleted).ToList();
        var restorable = backups.Where(b => b.Restorable).OrderByDescending(b => b.StartedAt).ToList();
        var keep = new HashSet<string>(StringComparer.Ordinal);

        foreach (var b in restorable.Take(Math.Max(0, policy.KeepLast))) keep.Add(b.Id);
        if (policy.KeepLast > 0) reasons.Add($"keep the newest {policy.KeepLast} backup(s)");

        if (policy.RecoveryWindow > TimeSpan.Zero)
        {
            var windowStart = now - policy.RecoveryWindow;
            foreach (var b in restorable.Where(b => b.StartedAt >= windowStart)) keep.Add(b.Id);
            if (restorable.FirstOrDefault(b => b.StartedAt < windowStart) is { } baseOfWindow)
            {
                keep.Add(baseOfWindow.Id);
                reasons.Add($"keep {baseOfWindow.Id}: the base for recovering to {windowStart:u}");
            }
        }
        if (restorable.FirstOrDefault(b => b.Verified) is { } newestVerified && keep.Add(newestVerified.Id))
        {
            reasons.Add($"keep {newestVerified.Id}: the newest verified backup is never deleted");
        }
        foreach (var running in backups.Where(b => b.State == BackupState.Running)) keep.Add(running.Id);

        var kept = backups.Where(b => keep.Contains(b.Id)).ToList();
        var deleted = backups.Where(b => !keep.Contains(b.Id)).ToList();
        var oldestKept = kept.Where(b => b.Restorable).OrderBy(b => b.StartLsn).FirstOrDefault();
        return new RetentionPlan(kept, deleted, oldestKept?.StartLsn, reasons);
    }
}

/// <summary>What the schedule decision needs to know of a tier's backups.</summary>
public sealed record ScheduleFacts(DateTimeOffset? BackupAnchor, DateTimeOffset? DrillAnchor, bool BackupRunning, bool DrillRunning, bool HasRestorableBackup)
{
    /// <summary>Why no replica can be backed up now (tier not probed yet, none reachable); null or empty when one can.</summary>
    public string? SourceMissing { get; init; }
}

/// <summary>The scheduled jobs to start now, and why a due backup waits (empty when none waits).</summary>
public sealed record ScheduledJobs(bool Backup, bool Drill)
{
    public string BackupWaiting { get; init; } = "";
}
