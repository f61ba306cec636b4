namespace ControlPlane.Grains.Backups;

/// <summary>
/// The backups of one tier: policy, schedules (driven by a reminder), the catalog of base backups, the continuous
/// WAL archive following the primary, restores, drills, retention and tenant exports. Key: <c>env/tier</c>.
/// Long jobs answer an operation at once and run on; <see cref="GetOperation"/> shows their progress.
/// </summary>
[Alias("controlplane.IBackupGrain")]
public interface IBackupGrain : IGrainWithStringKey
{
    /// <summary>Makes sure the grain is active, archiving and keeping its schedules (a no-op when it is).</summary>
    [Alias("Ensure"), AlwaysInterleave]
    Task Ensure();

    [Alias("GetPolicy"), AlwaysInterleave]
    Task<BackupPolicy> GetPolicy();

    /// <summary>Replaces the policy (validated by the caller and again here); re-anchors the schedules.</summary>
    [Alias("SetPolicy")]
    Task<BackupPolicy> SetPolicy(BackupPolicy policy, string principal);

    /// <summary>Starts a base backup now. FAILED_PRECONDITION-style <see cref="InvalidOperationException"/> when one runs.</summary>
    [Alias("StartBackup")]
    Task<BackupOperation> StartBackup(string principal);

    /// <summary>Starts a restore drill of <paramref name="backupId"/> (or the newest restorable backup).</summary>
    [Alias("StartDrill")]
    Task<BackupOperation> StartDrill(string? backupId, string principal);

    /// <summary>Starts a restore from <paramref name="backupId"/> (or the newest backup that can reach the target).</summary>
    [Alias("StartRestore")]
    Task<BackupOperation> StartRestore(string? backupId, RestoreTargetSpec target, RestoreInto into, string principal);

    /// <summary>Makes a restored standby a replica of the tier (named <c>&lt;tier&gt;-&lt;restore id&gt;</c>).</summary>
    [Alias("RegisterRestore")]
    Task<RestoreRecord> RegisterRestore(string restoreId, string principal);

    /// <summary>Stops and removes a restored instance (a registered one leaves its tier first).</summary>
    [Alias("DropRestore")]
    Task<RestoreRecord> DropRestore(string restoreId, string principal);

    [Alias("StartTenantExport")]
    Task<BackupOperation> StartTenantExport(string tenant, string principal);

    [Alias("StartTenantImport")]
    Task<BackupOperation> StartTenantImport(string tenant, string exportId, bool replace, string principal);

    /// <summary>Creates a named restore point on the primary; answers its LSN.</summary>
    [Alias("CreateRestorePoint")]
    Task<RestorePointRecord> CreateRestorePoint(string name, string principal);

    [Alias("GetOperation"), AlwaysInterleave]
    Task<BackupOperation?> GetOperation(string operationId);

    /// <summary>The catalog of backups, oldest first (deleted ones included, for the record).</summary>
    [Alias("ListBackups"), AlwaysInterleave]
    Task<IReadOnlyList<BackupRecord>> ListBackups();

    [Alias("GetBackup"), AlwaysInterleave]
    Task<BackupRecord?> GetBackup(string backupId);

    [Alias("ListDrills"), AlwaysInterleave]
    Task<IReadOnlyList<DrillRecord>> ListDrills(int limit);

    [Alias("ListRestores"), AlwaysInterleave]
    Task<IReadOnlyList<RestoreRecord>> ListRestores();

    [Alias("ListTenantExports"), AlwaysInterleave]
    Task<IReadOnlyList<TenantExportRecord>> ListTenantExports(string? tenant);

    [Alias("GetArchiveStatus"), AlwaysInterleave]
    Task<ArchiveStatus> GetArchiveStatus();

    /// <summary>Applies retention now (or only shows what it would delete); answers the decision.</summary>
    [Alias("ApplyRetention")]
    Task<RetentionDecision> ApplyRetention(bool dryRun, string principal);

    [Alias("ListRetentionDecisions"), AlwaysInterleave]
    Task<IReadOnlyList<RetentionDecision>> ListRetentionDecisions(int limit);
}

/// <summary>A named restore point created through the control plane.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.RestorePointRecord")]
public sealed record RestorePointRecord(
    [property: Id(0)] string Name,
    [property: Id(1)] ulong Lsn,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] int Timeline,
    [property: Id(4)] string Principal);
