using System.Globalization;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Health;

namespace ControlPlane.Grains.Backups;

/// <summary>A gap of the tier's WAL archive as the backup grain reports it (see <see cref="WalGap"/>).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.WalGapRecord")]
public sealed record WalGapRecord(
    [property: Id(0)] int Timeline,
    [property: Id(1)] ulong FromLsn,
    [property: Id(2)] ulong ToLsn,
    [property: Id(3)] DateTimeOffset LastArchivedAt,
    [property: Id(4)] DateTimeOffset RecordedAt,
    [property: Id(5)] string Server)
{
    /// <summary>A restorable base backup taken after the gap exists (set when the grain reports it).</summary>
    [Id(6)] public bool Bridged { get; init; }

    public static WalGapRecord Of(WalGap gap)
    {
        ArgumentNullException.ThrowIfNull(gap);
        return new(gap.Timeline, gap.FromLsn, gap.ToLsn, gap.LastArchivedAt, gap.RecordedAt, gap.Server);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{new Lsn(FromLsn)} to {new Lsn(ToLsn)} (timeline {Timeline}, removed by {Server} before it was archived; recorded {RecordedAt:O})");
}

/// <summary>
/// What a gap in the WAL archive means for restores and backups (pure). Recovery replays WAL in order, so a base backup
/// that ended before a gap restores no further than the gap's start; only a base backup taken after the gap restores
/// past it. Until one exists the gap is "unbridged": the grain takes one at once and the alert stays raised.
/// </summary>
public static class WalGapPolicy
{
    /// <summary>Gaps no restorable backup lies after: point-in-time restore to any moment past them is impossible.</summary>
    public static IReadOnlyList<WalGapRecord> Unbridged(IReadOnlyList<WalGapRecord> gaps, IReadOnlyList<BackupRecord> backups)
    {
        ArgumentNullException.ThrowIfNull(gaps);
        ArgumentNullException.ThrowIfNull(backups);
        return gaps.Where(g => !BridgedBy(g, backups)).ToList();
    }

    /// <summary>The gaps with <see cref="WalGapRecord.Bridged"/> set from <paramref name="backups"/>.</summary>
    public static IReadOnlyList<WalGapRecord> Marked(IReadOnlyList<WalGapRecord> gaps, IReadOnlyList<BackupRecord> backups)
    {
        ArgumentNullException.ThrowIfNull(gaps);
        return gaps.Select(g => g with { Bridged = BridgedBy(g, backups) }).ToList();
    }

    private static bool BridgedBy(WalGapRecord gap, IReadOnlyList<BackupRecord> backups) => backups.Any(b => b.Restorable && b.StartLsn >= gap.ToLsn);

    /// <summary>The gap a new base backup should bridge now: the newest unbridged one, when no backup runs and none
    /// was started since it was recorded (a failed attempt raises its own alert instead of being retried every tick).</summary>
    public static WalGapRecord? BackupNeeded(IReadOnlyList<WalGapRecord> gaps, IReadOnlyList<BackupRecord> backups, bool backupRunning)
    {
        if (backupRunning) return null;
        var newest = Unbridged(gaps, backups).MaxBy(g => g.RecordedAt);
        return newest is not null && !backups.Any(b => b.StartedAt >= newest.RecordedAt) ? newest : null;
    }

    /// <summary>Why <paramref name="backup"/> cannot reach <paramref name="target"/> across a gap; empty when it can.</summary>
    public static string Crossing(BackupRecord backup, RestoreTargetSpec target, IReadOnlyList<WalGapRecord> gaps, IReadOnlyList<RestorePointRecord> points)
    {
        ArgumentNullException.ThrowIfNull(backup);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(gaps);
        ArgumentNullException.ThrowIfNull(points);
        foreach (var gap in gaps.Where(g => g.ToLsn > backup.StopLsn).OrderBy(g => g.FromLsn))
        {
            var start = Math.Max(gap.FromLsn, backup.StopLsn);
            var crosses = target.Kind switch
            {
                RestoreTargetKind.Immediate => false,
                RestoreTargetKind.Lsn => target.Lsn > start,
                RestoreTargetKind.Time => target.Time > gap.LastArchivedAt,
                RestoreTargetKind.RestorePoint => points.FirstOrDefault(p => p.Name == target.Name) is not { } point || point.Lsn > start,
                _ => true,
            };
            if (crosses)
            {
                return string.Create(CultureInfo.InvariantCulture,
                    $"backup {backup.Id} cannot reach {target}: the WAL archive has a gap from {gap}; from that backup, recovery reaches lsn {new Lsn(start)} (WAL archived up to {gap.LastArchivedAt:O}) at most");
            }
        }
        return "";
    }
}
