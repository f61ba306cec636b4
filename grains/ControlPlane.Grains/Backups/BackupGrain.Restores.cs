using System.Diagnostics;
using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Security;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Backups;

public sealed partial class BackupGrain
{
    private const int KeptDrills = 100;

    public Task<BackupOperation> StartDrill(string? backupId, string principal)
    {
        if (Busy(BackupOperationKind.Drill)) throw new TierConflictException($"a restore drill of {_env}/{_tier} is already running.");
        if (backupId is not null && S.Backups.FirstOrDefault(b => b.Id == backupId) is not { Restorable: true })
            throw new KeyNotFoundException($"backup '{backupId}' not found among the restorable backups of {_env}/{_tier}.");
        if (backupId is null && !S.Backups.Any(b => b.Restorable))
            throw new TierConflictException($"{_env}/{_tier} has no restorable backup to drill; take one first.");
        return BeginDrillAsync(backupId, principal, "drill requested");
    }

    private Task<BackupOperation> BeginDrillAsync(string? backupId, string principal, string request)
    {
        var drillId = $"d{S.Sequence + 1}";
        return BeginAsync(BackupOperationKind.Drill, principal, drillId, request, (opId, ct) => DrillAsync(opId, drillId, backupId, principal, ct));
    }

    /// <summary>
    /// Restores a backup into a scratch instance to its restore point (or its own end), measures the RTO up to a
    /// writable instance, runs the sanity checks, records the verdict and removes the scratch instance.
    /// </summary>
    private async Task<string> DrillAsync(string operationId, string drillId, string? backupId, string principal, CancellationToken ct)
    {
        var backup = backupId is null
            ? S.Backups.Where(b => b.Restorable).MaxBy(b => b.StopLsn)!
            : S.Backups.First(b => b.Id == backupId);
        var policy = Policy;
        S.Drills.Add(new DrillRecord(drillId, backup.Id, DateTimeOffset.UtcNow, null, null, null, [], "", principal));
        if (S.Drills.Count > KeptDrills) S.Drills.RemoveRange(0, S.Drills.Count - KeptDrills);
        SetBackup(backup.Id, b => b with { Drills = [.. b.Drills, drillId] });
        var target = backup.RestorePoint.Length > 0
            ? new RecoveryTarget(RecoveryTargetKind.RestorePoint, Name: backup.RestorePoint)
            : RecoveryTarget.Immediate;
        await StepAsync(operationId, $"drill {drillId}: restoring backup {backup.Id} to {(target.Name ?? "its end")}");

        var dataDirectory = Path.Combine(_options.RestoreDirectory, _env, _tier, $"drill-{drillId}", "data");
        await WaitForArchiveAsync(operationId, backup.RestorePoint.Length > 0 ? backup.RestorePointLsn : backup.StopLsn, ct);
        var watch = Stopwatch.StartNew();
        try
        {
            var restored = await RestoreIntoAsync(operationId, backup, target, dataDirectory, standbyOf: null, ct);
            var rto = watch.Elapsed;
            await StepAsync(operationId, $"restored in {rto.TotalSeconds:0.0}s (timeline {restored.Timeline}, lsn {new Postgres.Health.Lsn(restored.ReachedLsn)}); checking");
            _progress[operationId] = new BackupProgress("checking", 0, 0);
            var checks = await engine.RunDrillChecksAsync(restored.Endpoint, [.. backup.Counts.Select(c => c.ToCount())], ct);
            var passed = checks.All(c => c.Passed);
            SetDrill(drillId, d => d with
            {
                FinishedAt = DateTimeOffset.UtcNow,
                Passed = passed,
                Rto = rto,
                Checks = [.. checks.Select(c => new DrillCheckRecord(c.Name, c.Passed, c.Detail))],
            });
            await StepAsync(operationId, (passed ? "drill passed" : "drill FAILED") + ": " + string.Join("; ", checks.Select(c => $"{c.Name} {(c.Passed ? "ok" : "failed")}: {c.Detail}")));
            metrics.Record(_env, _tier, g => g with { DrillRtoSeconds = rto.TotalSeconds, DrillPassed = passed ? 1 : 0 });
            Audit("drill/complete", passed ? AuditOutcome.Ok : AuditOutcome.Failed,
                $"drill {drillId} of backup {backup.Id}: {(passed ? "passed" : "failed")}, RTO {rto.TotalSeconds:0.0}s (target {policy.RtoTarget.TotalSeconds:0}s)", operationId, principal);
            if (!passed) throw new InvalidOperationException($"drill {drillId} failed: {string.Join("; ", checks.Where(c => !c.Passed).Select(c => $"{c.Name}: {c.Detail}"))}");
            return drillId;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            if (S.Drills.FirstOrDefault(d => d.Id == drillId) is { Passed: null })
            {
                SetDrill(drillId, d => d with { FinishedAt = DateTimeOffset.UtcNow, Passed = false, Error = ex.Message });
                metrics.Record(_env, _tier, g => g with { DrillPassed = 0 });
                Audit("drill/complete", AuditOutcome.Failed, $"drill {drillId} of backup {backup.Id} failed: {ex.Message}", operationId, principal);
            }
            await SaveAsync();
            throw;
        }
        finally
        {
            await DestroyQuietlyAsync(dataDirectory);
        }
    }

    public async Task<BackupOperation> StartRestore(string? backupId, RestoreTargetSpec target, RestoreInto into, string principal)
    {
        ArgumentNullException.ThrowIfNull(target);
        var points = S.RestorePoints
            .Concat(S.Backups.Where(b => b.RestorePoint.Length > 0 && b.RestorePointLsn > 0)
                .Select(b => new RestorePointRecord(b.RestorePoint, b.RestorePointLsn, b.FinishedAt ?? b.StartedAt, b.Timeline, AuditEntry.ControlPlane)))
            .ToList();
        List<WalGapRecord> gaps;
        try
        {
            gaps = engine.ReadWalGaps(Repository(Policy)).Select(WalGapRecord.Of).ToList();
        }
        catch (InvalidDataException ex)
        {
            throw new TierConflictException($"no restore of {_env}/{_tier} while {ex.Message}.");
        }
        var (chosen, error) = RestorePlanner.ChooseBase(S.Backups, backupId, target, points, gaps);
        if (chosen is null)
        {
            if (backupId is not null && error.EndsWith("not found", StringComparison.Ordinal)) throw new KeyNotFoundException(error + $" in {_env}/{_tier}.");
            throw new TierConflictException(error + ".");
        }
        var restoreId = $"r{S.Sequence + 1}";
        return await BeginAsync(BackupOperationKind.Restore, principal, restoreId,
            $"restore of backup {chosen.Id} to {target} into a new {(into == RestoreInto.Standby ? "standby" : "instance")}",
            (opId, ct) => RestoreAsync(opId, restoreId, chosen, target, into, principal, ct));
    }

    private async Task<string> RestoreAsync(string operationId, string restoreId, BackupRecord backup, RestoreTargetSpec target, RestoreInto into, string principal, CancellationToken ct)
    {
        var dataDirectory = Path.Combine(_options.RestoreDirectory, _env, _tier, restoreId, "data");
        S.Restores.Add(new RestoreRecord(restoreId, backup.Id, target, into, RestoreStatus.Running, dataDirectory, 0, DateTimeOffset.UtcNow, null, 0, 0, "", principal));
        await SaveAsync();
        Audit("restore/start", AuditOutcome.Ok, $"restore {restoreId} of backup {backup.Id} to {target}", operationId, principal);
        try
        {
            var needed = target.Kind == RestoreTargetKind.Lsn ? target.Lsn ?? 0
                : target.Kind == RestoreTargetKind.Immediate ? backup.StopLsn
                : _archiveStatus.PrimaryLsn;
            await WaitForArchiveAsync(operationId, needed, ct);
            ReplicationSource? standbyOf = null;
            if (into == RestoreInto.Standby)
            {
                var (snapshot, spec) = await TopologyAsync();
                var primary = spec.Replicas.First(r => r.Name == snapshot.Primary);
                standbyOf = new ReplicationSource(Health.ReplicaGrain.Endpoint(primary), primary.ReplicatorPasswordFile
                    ?? throw new InvalidOperationException($"{_env}/{_tier} has no replication credentials; a restored standby needs the replicator role."));
            }
            var restored = await RestoreIntoAsync(operationId, backup, ToRecoveryTarget(target), dataDirectory, standbyOf, ct);
            SetRestore(restoreId, r => r with
            {
                Status = RestoreStatus.Ready,
                Port = restored.Endpoint.Port,
                FinishedAt = DateTimeOffset.UtcNow,
                Timeline = restored.Timeline,
                ReachedLsn = restored.ReachedLsn,
            });
            await StepAsync(operationId, $"restore {restoreId} ready on 127.0.0.1:{restored.Endpoint.Port} (timeline {restored.Timeline}, lsn {new Postgres.Health.Lsn(restored.ReachedLsn)}) in {restored.Duration.TotalSeconds:0.0}s");
            Audit("restore/complete", AuditOutcome.Ok, $"restore {restoreId} ready on port {restored.Endpoint.Port}", operationId, principal);
            return restoreId;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            SetRestore(restoreId, r => r with { Status = RestoreStatus.Failed, FinishedAt = DateTimeOffset.UtcNow, Error = ex.Message });
            await SaveAsync();
            await DestroyQuietlyAsync(dataDirectory);
            throw;
        }
    }

    public async Task<RestoreRecord> DropRestore(string restoreId, string principal)
    {
        var restore = S.Restores.FirstOrDefault(r => r.Id == restoreId)
            ?? throw new KeyNotFoundException($"restore '{restoreId}' not found in {_env}/{_tier}.");
        if (restore.Status == RestoreStatus.Running) throw new TierConflictException($"restore '{restoreId}' is still running; drop it when it finished.");
        if (restore.Status == RestoreStatus.Registered)
        {
            await TierGrain.ReleaseReplica(restore.ReplicaName, principal);
        }
        if (restore.Status != RestoreStatus.Dropped)
        {
            await engine.DestroyAsync(restore.DataDirectory, _stopping.Token);
            if (restore.Status == RestoreStatus.Registered) await DropReplicaSlotAsync(restore.ReplicaName);
            SetRestore(restoreId, r => r with { Status = RestoreStatus.Dropped });
            await SaveAsync();
            logger.LogInformation("{Env}/{Tier}: restore {Restore} dropped by {Principal}", _env, _tier, restoreId, principal);
        }
        return S.Restores.First(r => r.Id == restoreId);
    }

    public async Task<RestoreRecord> RegisterRestore(string restoreId, string principal)
    {
        var restore = S.Restores.FirstOrDefault(r => r.Id == restoreId)
            ?? throw new KeyNotFoundException($"restore '{restoreId}' not found in {_env}/{_tier}.");
        if (restore.Status == RestoreStatus.Registered) return restore;
        if (restore.Status != RestoreStatus.Ready || restore.Into != RestoreInto.Standby)
            throw new TierConflictException($"restore '{restoreId}' is {restore.Status.ToString().ToLowerInvariant()} {(restore.Into == RestoreInto.Standby ? "standby" : "instance")}; only a ready standby can join the tier (restore with into = standby).");
        var (_, spec) = await TopologyAsync();
        var template = spec.Replicas[0];
        var replica = new Health.ReplicaSpec(_env, _tier, $"{_tier}-{restoreId}", "127.0.0.1", restore.Port, template.Database, template.User,
            template.PasswordFile, restore.DataDirectory, template.ReplicatorPasswordFile);
        await TierGrain.AdoptReplica(replica, principal);
        SetRestore(restoreId, r => r with { Status = RestoreStatus.Registered, ReplicaName = replica.Name });
        await SaveAsync();
        Audit("restore/register", AuditOutcome.Ok, $"restore {restoreId} joined the tier as replica {replica.Name}", principal: principal);
        return S.Restores.First(r => r.Id == restoreId);
    }

    /// <summary>The slot the tier created for a replica that left it; left in place (and logged) if it stays busy.</summary>
    private async Task DropReplicaSlotAsync(string replicaName)
    {
        var (snapshot, spec) = await TopologyAsync();
        var primary = spec.Replicas.First(r => r.Name == snapshot.Primary);
        var slot = Postgres.Fleet.LocalFleetOptions.SlotName(replicaName);
        if (!await engine.DropSlotAsync(Health.ReplicaGrain.Endpoint(primary), slot, _stopping.Token))
            logger.LogWarning("{Env}/{Tier}: slot {Slot} of the released replica {Replica} is still active on {Primary}; drop it by hand", _env, _tier, slot, replicaName, primary.Name);
    }

    public async Task<RestorePointRecord> CreateRestorePoint(string name, string principal)
    {
        var (snapshot, spec) = await TopologyAsync();
        var primary = spec.Replicas.First(r => r.Name == snapshot.Primary);
        var lsn = await engine.CreateRestorePointAsync(Health.ReplicaGrain.Endpoint(primary), name, _stopping.Token);
        var point = new RestorePointRecord(name, lsn, DateTimeOffset.UtcNow, snapshot.Replicas.FirstOrDefault(r => r.Name == primary.Name)?.Timeline ?? 0, principal);
        S.RestorePoints.Add(point);
        if (S.RestorePoints.Count > 500) S.RestorePoints.RemoveRange(0, S.RestorePoints.Count - 500);
        await SaveAsync();
        return point;
    }

    private async Task<RestoredInstance> RestoreIntoAsync(string operationId, BackupRecord backup, RecoveryTarget target, string dataDirectory, ReplicationSource? standbyOf, CancellationToken ct)
    {
        var (_, spec) = await TopologyAsync();
        var policy = Policy;
        var credentials = Health.ReplicaGrain.Endpoint(spec.Replicas[0]);
        var (backupDirectory, walDirectory) = LocateBackup(backup, policy);
        var request = new RestoreRequest(backupDirectory, walDirectory, dataDirectory, FreePort.Pick(), credentials, target, standbyOf);
        return await engine.RestoreAsync(request, ProgressOf(operationId), ct);
    }

    private (string Backup, string Wal) LocateBackup(BackupRecord backup, BackupPolicy policy) => BackupLocation.Find(backup, policy, _env, _tier);

    /// <summary>
    /// Recovery can only replay WAL the archive holds: waits (a bounded while) until the archiver has stored
    /// <paramref name="lsn"/>, so a restore right after a write or a backup does not stop short of it.
    /// </summary>
    private async Task WaitForArchiveAsync(string operationId, ulong lsn, CancellationToken ct)
    {
        if (!Policy.ArchiveWal || lsn == 0) return;
        _progress[operationId] = new BackupProgress("waiting for the WAL archive", 0, 0, new Postgres.Health.Lsn(lsn).ToString());
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (_archiveStatus.StoredLsn is { } stored && stored >= lsn) return;
            await Task.Delay(200, ct);
        }
        await StepAsync(operationId, $"the WAL archive has not reached {new Postgres.Health.Lsn(lsn)} after 30s (stored {new Postgres.Health.Lsn(_archiveStatus.StoredLsn ?? 0)}); restoring from what it holds");
    }

    private static RecoveryTarget ToRecoveryTarget(RestoreTargetSpec target) => target.Kind switch
    {
        RestoreTargetKind.Time => new RecoveryTarget(RecoveryTargetKind.Time, Time: target.Time),
        RestoreTargetKind.Lsn => new RecoveryTarget(RecoveryTargetKind.Lsn, Lsn: target.Lsn),
        RestoreTargetKind.RestorePoint => new RecoveryTarget(RecoveryTargetKind.RestorePoint, Name: target.Name),
        RestoreTargetKind.Immediate => RecoveryTarget.Immediate,
        _ => RecoveryTarget.Latest,
    };

    private async Task DestroyQuietlyAsync(string dataDirectory)
    {
        try { await engine.DestroyAsync(dataDirectory, CancellationToken.None); }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogWarning("{Env}/{Tier}: removing {DataDirectory} failed: {Error}", _env, _tier, dataDirectory, ex.Message);
        }
    }

    private void SetDrill(string id, Func<DrillRecord, DrillRecord> change)
    {
        var i = S.Drills.FindIndex(d => d.Id == id);
        if (i >= 0) S.Drills[i] = change(S.Drills[i]);
    }

    private void SetRestore(string id, Func<RestoreRecord, RestoreRecord> change)
    {
        var i = S.Restores.FindIndex(r => r.Id == id);
        if (i >= 0) S.Restores[i] = change(S.Restores[i]);
    }
}
