namespace ControlPlane.Grains.Backups;

/// <summary>Where a base backup is taken from.</summary>
public enum BackupSource
{
    Primary = 0,
    /// <summary>The most up-to-date healthy standby, so the primary does not pay for the copy.</summary>
    BestStandby = 1,
}

/// <summary>A tier's backup policy. Retention keeps the union of the last N and what the recovery window needs.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.BackupPolicy")]
public sealed record BackupPolicy
{
    /// <summary>Cron schedule of base backups (5 fields, UTC).</summary>
    [Id(0)] public string Schedule { get; init; } = "0 3 * * *";
    /// <summary>Keep at least the newest N complete backups (0: no count rule).</summary>
    [Id(1)] public int KeepLast { get; init; } = 7;
    /// <summary>Keep what point-in-time recovery to any moment of this window needs (zero: no window rule).</summary>
    [Id(2)] public TimeSpan RecoveryWindow { get; init; } = TimeSpan.FromDays(7);
    [Id(3)] public BackupSource Source { get; init; } = BackupSource.Primary;
    [Id(4)] public bool Verify { get; init; } = true;
    /// <summary>Cron schedule of restore drills (empty: no drills).</summary>
    [Id(5)] public string DrillSchedule { get; init; } = "0 5 * * 0";
    [Id(6)] public TimeSpan RpoTarget { get; init; } = TimeSpan.FromSeconds(1);
    [Id(7)] public TimeSpan RtoTarget { get; init; } = TimeSpan.FromMinutes(5);
}

public enum BackupState
{
    Running = 0,
    Succeeded = 1,
    /// <summary>Interrupted or errored: never offered for restore.</summary>
    Failed = 2,
}

/// <summary>One base backup in a tier's catalog of backups.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.BackupRecord")]
public sealed record BackupRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] BackupState State,
    [property: Id(2)] DateTimeOffset StartedAt,
    [property: Id(3)] DateTimeOffset? FinishedAt,
    [property: Id(4)] int Timeline,
    [property: Id(5)] ulong StartLsn,
    [property: Id(6)] ulong StopLsn,
    [property: Id(7)] bool Verified)
{
    /// <summary>Usable as the base of a restore: complete and (when verification ran) verified.</summary>
    public bool Restorable => State == BackupState.Succeeded;
}

/// <summary>What retention keeps and deletes, and from which WAL position older WAL is no longer needed.</summary>
public sealed record RetentionPlan(IReadOnlyList<BackupRecord> Keep, IReadOnlyList<BackupRecord> Delete, ulong? WalNeededFrom, IReadOnlyList<string> Reasons);
