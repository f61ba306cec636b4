using System.Collections.Concurrent;
using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Security;
using ControlPlane.Postgres.Backups;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Backups;

public sealed partial class BackupGrain
{
    // Progress comes from tool output on other threads; it is kept beside the state, never written into it.
    private readonly ConcurrentDictionary<string, BackupProgress> _progress = new(StringComparer.Ordinal);

    /// <summary>
    /// Records the operation (persisted before anything is acted on), answers it at once, and runs
    /// <paramref name="body"/> on the activation. The body returns the subject it made; a thrown error fails the operation.
    /// </summary>
    private async Task<BackupOperation> BeginAsync(BackupOperationKind kind, string principal, string subject, string request,
        Func<string, CancellationToken, Task<string>> body)
    {
        var now = DateTimeOffset.UtcNow;
        var op = new BackupOperation(BackupOperation.IdOf(_tier, Next()), kind, _env, _tier, principal, OperationState.Running,
            [new OperationStep(now, request)], now, null, "", subject);
        S.Operations.Add(op);
        if (S.Operations.Count > KeptOperations) S.Operations.RemoveRange(0, S.Operations.Count - KeptOperations);
        await SaveAsync();
        _ = RunAsync(op.Id, body);
        return op;
    }

    private async Task RunAsync(string operationId, Func<string, CancellationToken, Task<string>> body)
    {
        string? error = null;
        var subject = "";
        try
        {
            subject = await body(operationId, _stopping.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return; // the activation is going away; the next one marks the job interrupted
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            error = ex.Message;
            logger.LogWarning("{Env}/{Tier}: operation {Operation} failed: {Error}", _env, _tier, operationId, ex.Message);
        }
        _progress.TryRemove(operationId, out _);
        Update(operationId, op => (error is null ? op.Step("done") : op.Step($"failed: {error}")) with
        {
            State = error is null ? OperationState.Succeeded : OperationState.Failed,
            FinishedAt = DateTimeOffset.UtcNow,
            Error = error ?? "",
            Subject = subject.Length > 0 ? subject : op.Subject,
        });
        try { await SaveAsync(); }
        catch (InconsistentStateException) { }
        await PublishAlertAsync();
    }

    private void Update(string operationId, Func<BackupOperation, BackupOperation> change)
    {
        var i = S.Operations.FindIndex(o => o.Id == operationId);
        if (i >= 0) S.Operations[i] = change(S.Operations[i]);
    }

    private async Task StepAsync(string operationId, string message)
    {
        Update(operationId, op => op.Step(message));
        await SaveAsync();
    }

    private IProgress<BackupProgress> ProgressOf(string operationId) =>
        new Progress<BackupProgress>(p => _progress[operationId] = p);

    private BackupOperation WithProgress(BackupOperation op) =>
        _progress.TryGetValue(op.Id, out var p)
            ? op with { Phase = p.Phase, DoneBytes = p.DoneBytes, TotalBytes = p.TotalBytes }
            : op;

    private bool Busy(BackupOperationKind kind) => S.Operations.Any(o => o.Kind == kind && !o.Finished);

    public async Task<BackupOperation> StartBackup(string principal)
    {
        if (Busy(BackupOperationKind.Backup)) throw new TierConflictException($"a base backup of {_env}/{_tier} is already running; watch it or wait for it to finish.");
        return await BeginBackupAsync(principal, "backup requested");
    }

    private async Task<BackupOperation> BeginBackupAsync(string principal, string request)
    {
        var policy = Policy;
        var id = $"{DateTimeOffset.UtcNow:yyyyMMdd'T'HHmmss'Z'}-{S.Sequence + 1}";
        return await BeginAsync(BackupOperationKind.Backup, principal, id, request, (opId, ct) => TakeBackupAsync(opId, id, policy, principal, ct));
    }

    private async Task<string> TakeBackupAsync(string operationId, string id, BackupPolicy policy, string principal, CancellationToken ct)
    {
        var problem = engine.CheckRepository(policy.Repository);
        if (problem.Length > 0) throw new InvalidOperationException(problem);
        var (snapshot, spec) = await TopologyAsync();
        var sourceName = BackupSourcePolicy.Choose(policy.Source, snapshot)
            ?? throw new InvalidOperationException($"no reachable replica of {_env}/{_tier} to take a backup from (primary {snapshot.Primary} is not reachable).");
        var source = spec.Replicas.First(r => r.Name == sourceName);
        var primary = spec.Replicas.First(r => r.Name == snapshot.Primary);
        if (source.ReplicatorPasswordFile is null)
            throw new InvalidOperationException($"{_env}/{_tier}/{sourceName} has no replication credentials; base backups need the replicator role.");

        var started = DateTimeOffset.UtcNow;
        var record = new BackupRecord(id, BackupState.Running, started, null, 0, 0, 0, false)
        {
            SourceReplica = sourceName,
            Compression = policy.Compression,
            Principal = principal,
            OperationId = operationId,
            Repositories = [policy.Repository],
        };
        S.Backups.Add(record);
        await StepAsync(operationId, $"taking base backup {id} from {sourceName} into {policy.Repository}");
        Audit("backup/start", AuditOutcome.Ok, $"base backup {id} from {sourceName}", operationId, principal);

        BaseBackupResult result;
        try
        {
            var request = new BaseBackupRequest(id, new ReplicationSource(Health.ReplicaGrain.Endpoint(source), source.ReplicatorPasswordFile), Repository(policy))
            {
                Compression = policy.Compression,
                MaxRateKbps = policy.MaxRateKbps == 0 ? null : policy.MaxRateKbps,
            };
            result = await engine.TakeBaseBackupAsync(request, ProgressOf(operationId), ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            SetBackup(id, b => b with { State = BackupState.Failed, FinishedAt = DateTimeOffset.UtcNow, Error = ex.Message });
            await SaveAsync();
            throw;
        }
        SetBackup(id, b => b with { Timeline = result.Timeline, StartLsn = result.StartLsn, StopLsn = result.StopLsn, Bytes = result.Bytes });
        await StepAsync(operationId, $"base backup written: {result.Bytes} bytes in {result.Duration.TotalSeconds:0.0}s, lsn {new Postgres.Health.Lsn(result.StartLsn)} to {new Postgres.Health.Lsn(result.StopLsn)} on timeline {result.Timeline}");

        await RecordCountsAsync(operationId, id, primary, ct);
        var verified = false;
        var verifyDetail = "verification off in the policy";
        if (policy.Verify)
        {
            _progress[operationId] = new BackupProgress("verifying", 0, 0);
            var outcome = await engine.VerifyAsync(result.Directory, Path.Combine(_options.RestoreDirectory, "scratch"), ct);
            verified = outcome.Passed;
            verifyDetail = outcome.Detail;
            await StepAsync(operationId, outcome.Passed ? $"verified in {outcome.Duration.TotalSeconds:0.0}s" : $"verification FAILED: {outcome.Detail}");
            if (!outcome.Passed)
            {
                SetBackup(id, b => b with { State = BackupState.Failed, FinishedAt = DateTimeOffset.UtcNow, VerifyDetail = verifyDetail, Error = $"verification failed: {verifyDetail}" });
                await SaveAsync();
                throw new InvalidOperationException($"backup {id} failed verification: {verifyDetail}");
            }
        }
        var repositories = new List<string> { policy.Repository };
        if (SecondRepository(policy) is { } second)
        {
            _progress[operationId] = new BackupProgress("copying to the second repository", 0, result.Bytes);
            await engine.CopyBackupAsync(result.Directory, second.BackupDirectory(id), ct);
            repositories.Add(policy.SecondRepository);
            await StepAsync(operationId, $"copied to {policy.SecondRepository}");
        }
        SetBackup(id, b => b with
        {
            State = BackupState.Succeeded,
            FinishedAt = DateTimeOffset.UtcNow,
            Verified = verified,
            VerifyDetail = verifyDetail,
            Repositories = repositories,
        });
        await SaveAsync();
        metrics.Record(_env, _tier, g => g with { LastSuccessUnixSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), LastBytes = result.Bytes });
        Audit("backup/complete", AuditOutcome.Ok, $"base backup {id}: {result.Bytes} bytes, verified {verified}", operationId, principal);
        logger.LogInformation("{Env}/{Tier}: base backup {Backup} done ({Bytes} bytes, verified {Verified})", _env, _tier, id, result.Bytes, verified);
        await ApplyRetentionAsync(dryRun: false, AuditEntry.ControlPlane);
        return id;
    }

    /// <summary>
    /// Creates the backup's restore point with row counts of the largest tables exactly as of it; drills recover to
    /// the point and compare. Optional: a tier whose writers hold locks too long still gets its backup.
    /// </summary>
    private async Task RecordCountsAsync(string operationId, string id, Health.ReplicaSpec primary, CancellationToken ct)
    {
        _progress[operationId] = new BackupProgress("recording row counts", 0, 0);
        var name = $"controlplane-backup-{id}";
        try
        {
            var counts = await engine.CaptureCountsAsync(Health.ReplicaGrain.Endpoint(primary), name, ct);
            SetBackup(id, b => b with
            {
                RestorePoint = counts.RestorePoint,
                RestorePointLsn = counts.RestorePointLsn,
                Counts = [.. counts.Counts.Select(TableCountRecord.From)],
            });
            await StepAsync(operationId, $"restore point {counts.RestorePoint} at {new Postgres.Health.Lsn(counts.RestorePointLsn)} with counts of {counts.Counts.Count} table(s)");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await StepAsync(operationId, $"row counts not recorded ({ex.Message}); drills of this backup check the rest");
        }
    }

    private void SetBackup(string id, Func<BackupRecord, BackupRecord> change)
    {
        var i = S.Backups.FindIndex(b => b.Id == id);
        if (i >= 0) S.Backups[i] = change(S.Backups[i]);
    }

    private async Task<(Health.TierSnapshot Snapshot, Health.TierSpec Spec)> TopologyAsync()
    {
        var snapshot = await TierGrain.GetSnapshot() ?? throw new InvalidOperationException($"tier {_env}/{_tier} has not been probed yet.");
        var spec = await TierGrain.GetSpec() ?? throw new InvalidOperationException($"tier {_env}/{_tier} is not registered.");
        return (snapshot, spec);
    }
}
