using ControlPlane.Grains.Failover;

namespace ControlPlane.Grains.Backups;

[GenerateSerializer, Alias("controlplane.BackupOperationKind")]
public enum BackupOperationKind
{
    Backup = 0,
    Drill = 1,
    Restore = 2,
    TenantExport = 3,
    TenantImport = 4,
}

/// <summary>
/// A long backup-side job (backup, drill, restore, tenant export or import) from request to outcome, with its latest
/// progress. Its id is <c>&lt;tier&gt;.b&lt;sequence&gt;</c>, distinct from failover operation ids. Subject is what the
/// operation made or acted on: a backup, drill, restore or export id.
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.BackupOperation")]
public sealed record BackupOperation(
    [property: Id(0)] string Id,
    [property: Id(1)] BackupOperationKind Kind,
    [property: Id(2)] string Environment,
    [property: Id(3)] string Tier,
    [property: Id(4)] string Principal,
    [property: Id(5)] OperationState State,
    [property: Id(6)] IReadOnlyList<OperationStep> Steps,
    [property: Id(7)] DateTimeOffset StartedAt,
    [property: Id(8)] DateTimeOffset? FinishedAt,
    [property: Id(9)] string Error,
    [property: Id(10)] string Subject)
{
    [Id(11)] public string Phase { get; init; } = "";
    [Id(12)] public long DoneBytes { get; init; }
    [Id(13)] public long TotalBytes { get; init; }

    public bool Finished => State is OperationState.Succeeded or OperationState.Failed;

    public BackupOperation Step(string message) => this with { Steps = [.. Steps, new OperationStep(DateTimeOffset.UtcNow, message)] };

    public static string IdOf(string tier, long sequence) => $"{tier}.b{sequence}";

    /// <summary>Splits an operation id into its tier; false when it is not a backup operation id.</summary>
    public static bool TryParseId(string? id, out string tier)
    {
        tier = "";
        if (string.IsNullOrEmpty(id)) return false;
        var dot = id.LastIndexOf(".b", StringComparison.Ordinal);
        if (dot <= 0 || !long.TryParse(id.AsSpan(dot + 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || n <= 0)
            return false;
        tier = id[..dot];
        return Fleet.FleetKeys.IsValidName(tier);
    }
}

/// <summary>One restore drill: restore, checks, measured RTO (from the start of the restore to a writable instance, checks excluded).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.DrillRecord")]
public sealed record DrillRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] string BackupId,
    [property: Id(2)] DateTimeOffset StartedAt,
    [property: Id(3)] DateTimeOffset? FinishedAt,
    [property: Id(4)] bool? Passed,
    [property: Id(5)] TimeSpan? Rto,
    [property: Id(6)] IReadOnlyList<DrillCheckRecord> Checks,
    [property: Id(7)] string Error,
    [property: Id(8)] string Principal)
{
    public DrillSummary? Summary => Passed is { } p
        ? new DrillSummary(Id, p, Rto, Error.Length > 0 ? Error : string.Join(", ", Checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}")))
        : null;
}

[GenerateSerializer, Immutable, Alias("controlplane.DrillCheckRecord")]
public sealed record DrillCheckRecord([property: Id(0)] string Name, [property: Id(1)] bool Passed, [property: Id(2)] string Detail);

[GenerateSerializer, Alias("controlplane.RestoreInto")]
public enum RestoreInto
{
    /// <summary>A standalone, promoted instance, left running for inspection.</summary>
    Instance = 0,
    /// <summary>A streaming standby of the tier's current primary.</summary>
    Standby = 1,
}

[GenerateSerializer, Alias("controlplane.RestoreTargetKind")]
public enum RestoreTargetKind
{
    Latest = 0,
    Time = 1,
    Lsn = 2,
    RestorePoint = 3,
    /// <summary>The backup's own end: no WAL beyond what it needs.</summary>
    Immediate = 4,
}

[GenerateSerializer, Immutable, Alias("controlplane.RestoreTargetSpec")]
public sealed record RestoreTargetSpec(
    [property: Id(0)] RestoreTargetKind Kind,
    [property: Id(1)] DateTimeOffset? Time = null,
    [property: Id(2)] ulong? Lsn = null,
    [property: Id(3)] string? Name = null)
{
    public override string ToString() => Kind switch
    {
        RestoreTargetKind.Time => $"time {Time:O}",
        RestoreTargetKind.Lsn => $"lsn {new ControlPlane.Postgres.Health.Lsn(Lsn ?? 0)}",
        RestoreTargetKind.RestorePoint => $"restore point {Name}",
        RestoreTargetKind.Immediate => "end of the backup",
        _ => "latest",
    };
}

[GenerateSerializer, Alias("controlplane.RestoreStatus")]
public enum RestoreStatus
{
    Running = 0,
    /// <summary>Up and running (promoted, or streaming for a standby).</summary>
    Ready = 1,
    Failed = 2,
    /// <summary>Stopped and removed by an operator.</summary>
    Dropped = 3,
    /// <summary>A restored standby that joined the tier as a replica (see <see cref="RestoreRecord.ReplicaName"/>).</summary>
    Registered = 4,
}

/// <summary>An instance restored from a backup, kept until dropped.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.RestoreRecord")]
public sealed record RestoreRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] string BackupId,
    [property: Id(2)] RestoreTargetSpec Target,
    [property: Id(3)] RestoreInto Into,
    [property: Id(4)] RestoreStatus Status,
    [property: Id(5)] string DataDirectory,
    [property: Id(6)] int Port,
    [property: Id(7)] DateTimeOffset StartedAt,
    [property: Id(8)] DateTimeOffset? FinishedAt,
    [property: Id(9)] int Timeline,
    [property: Id(10)] ulong ReachedLsn,
    [property: Id(11)] string Error,
    [property: Id(12)] string Principal)
{
    /// <summary>The replica name it joined its tier under, once registered.</summary>
    [Id(13)] public string ReplicaName { get; init; } = "";
}

/// <summary>A logical export of one tenant's schema.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TenantExportRecord")]
public sealed record TenantExportRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] string Tenant,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] string File,
    [property: Id(4)] long Bytes,
    [property: Id(5)] IReadOnlyList<TableCountRecord> Counts,
    [property: Id(6)] string Principal);

/// <summary>A retention decision, persisted before anything is deleted, then marked carried out.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.RetentionDecision")]
public sealed record RetentionDecision(
    [property: Id(0)] long Sequence,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] IReadOnlyList<string> DeleteBackups,
    [property: Id(3)] ulong? WalBefore,
    [property: Id(4)] IReadOnlyList<string> Reasons,
    [property: Id(5)] bool CarriedOut,
    [property: Id(6)] int WalFilesDeleted,
    [property: Id(7)] long BytesFreed,
    [property: Id(8)] string Error);
