using ControlPlane.Postgres.Backups;

namespace ControlPlane.Grains.Backups;

/// <summary>Where a base backup is taken from.</summary>
[GenerateSerializer, Alias("controlplane.BackupSource")]
public enum BackupSource
{
    Primary = 0,
    /// <summary>The most up-to-date healthy standby, so the primary does not pay for the copy.</summary>
    BestStandby = 1,
}

/// <summary>
/// A tier's backup policy. Retention keeps the union of the last N and what the recovery window needs. Defaults come
/// from <see cref="BackupOptions"/>; <see cref="Validate"/> names every unusable field.
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.BackupPolicy")]
public sealed record BackupPolicy
{
    /// <summary>Cron schedule of base backups (5 fields, UTC); empty: no scheduled backups.</summary>
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
    /// <summary>The primary repository directory.</summary>
    [Id(8)] public string Repository { get; init; } = "";
    /// <summary>A second repository (another region); empty: none.</summary>
    [Id(9)] public string SecondRepository { get; init; } = "";
    /// <summary>lz4, zstd, gzip or none.</summary>
    [Id(10)] public string Compression { get; init; } = "lz4";
    /// <summary>Transfer limit of a base backup in kB/s; 0: unlimited.</summary>
    [Id(11)] public int MaxRateKbps { get; init; }
    /// <summary>Stream WAL continuously into the repository (the basis of point-in-time recovery).</summary>
    [Id(12)] public bool ArchiveWal { get; init; } = true;

    public static readonly IReadOnlySet<string> Compressions = new HashSet<string>(StringComparer.Ordinal) { "lz4", "zstd", "gzip", "none" };

    /// <summary>The problems of this policy, each naming the field, its value and what is expected; empty when usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        CheckCron(errors, "schedule", Schedule);
        CheckCron(errors, "drill_schedule", DrillSchedule);
        if (KeepLast is < 0 or > 1000) errors.Add($"keep_last {KeepLast} is out of range; expected 0 to 1000.");
        if (RecoveryWindow < TimeSpan.Zero || RecoveryWindow > TimeSpan.FromDays(3650))
            errors.Add($"recovery_window {RecoveryWindow} is out of range; expected 0 to 3650 days.");
        if (KeepLast == 0 && RecoveryWindow == TimeSpan.Zero)
            errors.Add("keep_last and recovery_window are both 0; retention needs at least one rule, or every backup but the newest verified one would be deleted.");
        if (!Enum.IsDefined(Source)) errors.Add($"source {(int)Source} is not a known source; expected primary or best_standby.");
        if (RpoTarget <= TimeSpan.Zero || RpoTarget > TimeSpan.FromDays(1)) errors.Add($"rpo_target {RpoTarget} is out of range; expected more than 0 and at most 1 day.");
        if (RtoTarget <= TimeSpan.Zero || RtoTarget > TimeSpan.FromDays(7)) errors.Add($"rto_target {RtoTarget} is out of range; expected more than 0 and at most 7 days.");
        CheckDirectory(errors, "repository", Repository, required: true);
        CheckDirectory(errors, "second_repository", SecondRepository, required: false);
        if (SecondRepository.Length > 0 && Repository.Length > 0
            && string.Equals(Path.GetFullPath(Repository).TrimEnd('/'), Path.GetFullPath(SecondRepository).TrimEnd('/'), StringComparison.Ordinal))
            errors.Add($"second_repository '{SecondRepository}' is the primary repository; expected another directory (another region).");
        if (!Compressions.Contains(Compression)) errors.Add($"compression '{Compression}' is not supported; expected one of lz4, zstd, gzip, none.");
        if (MaxRateKbps != 0 && MaxRateKbps is < 32 or > 1048576) errors.Add($"max_rate_kbps {MaxRateKbps} is out of range; expected 0 (unlimited) or 32 to 1048576.");
        return errors;
    }

    private static void CheckCron(List<string> errors, string field, string value)
    {
        if (value.Length == 0) return;
        try { BackupPlanner.ParseSchedule(field, value); }
        catch (ArgumentException ex) { errors.Add(ex.Message.Split(" (Parameter", 2)[0]); }
    }

    private static void CheckDirectory(List<string> errors, string field, string value, bool required)
    {
        if (value.Length == 0)
        {
            if (required) errors.Add($"{field} is required; expected an absolute directory path.");
            return;
        }
        if (!Path.IsPathFullyQualified(value) || value.Length > 1024 || value.Any(char.IsControl))
            errors.Add($"{field} '{value}' is not usable; expected an absolute directory path of at most 1024 printable characters.");
    }
}

[GenerateSerializer, Alias("controlplane.BackupState")]
public enum BackupState
{
    Running = 0,
    Succeeded = 1,
    /// <summary>Interrupted or errored: never offered for restore.</summary>
    Failed = 2,
    /// <summary>Removed by retention (kept in the catalog for the record).</summary>
    Deleted = 3,
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
    [Id(8)] public long Bytes { get; init; }
    [Id(9)] public string SourceReplica { get; init; } = "";
    /// <summary>pg_verifybackup's verdict, or why verification did not run.</summary>
    [Id(10)] public string VerifyDetail { get; init; } = "";
    [Id(11)] public string Error { get; init; } = "";
    /// <summary>Repositories holding it (the primary one first).</summary>
    [Id(12)] public IReadOnlyList<string> Repositories { get; init; } = [];
    /// <summary>The restore point created right after the backup; drills recover to it and compare <see cref="Counts"/>.</summary>
    [Id(13)] public string RestorePoint { get; init; } = "";
    [Id(14)] public ulong RestorePointLsn { get; init; }
    [Id(15)] public IReadOnlyList<TableCountRecord> Counts { get; init; } = [];
    [Id(16)] public string Compression { get; init; } = "";
    [Id(17)] public string Principal { get; init; } = "";
    /// <summary>Ids of the drills that restored this backup, newest last.</summary>
    [Id(18)] public IReadOnlyList<string> Drills { get; init; } = [];
    [Id(19)] public string OperationId { get; init; } = "";

    /// <summary>Usable as the base of a restore: complete and (when verification ran) verified.</summary>
    public bool Restorable => State == BackupState.Succeeded;

    public TimeSpan? Duration => FinishedAt is { } f ? f - StartedAt : null;
}

/// <summary>A row count recorded at a restore point (serializable twin of <see cref="TableCount"/>).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TableCountRecord")]
public sealed record TableCountRecord([property: Id(0)] string Database, [property: Id(1)] string Table, [property: Id(2)] long Rows)
{
    public static TableCountRecord From(TableCount c) => new(c.Database, c.Table, c.Rows);
    public TableCount ToCount() => new(Database, Table, Rows);
}

/// <summary>What retention keeps and deletes, and from which WAL position older WAL is no longer needed.</summary>
public sealed record RetentionPlan(IReadOnlyList<BackupRecord> Keep, IReadOnlyList<BackupRecord> Delete, ulong? WalNeededFrom, IReadOnlyList<string> Reasons);
