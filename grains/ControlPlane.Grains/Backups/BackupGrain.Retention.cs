using ControlPlane.Grains.Security;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Backups;

public sealed partial class BackupGrain
{
    private const int KeptDecisions = 200;

    public Task<RetentionDecision> ApplyRetention(bool dryRun, string principal) => ApplyRetentionAsync(dryRun, principal);

    /// <summary>
    /// Asks the planner what the policy keeps, persists the decision, then deletes expired backups (both repositories)
    /// and the WAL only they needed. The newest verified backup is never deleted; nothing is deleted while a backup,
    /// drill or restore runs from the repository.
    /// </summary>
    private async Task<RetentionDecision> ApplyRetentionAsync(bool dryRun, string principal)
    {
        var policy = Policy;
        var plan = BackupPlanner.Retain(policy, S.Backups, DateTimeOffset.UtcNow);
        var busy = S.Operations.Any(o => !o.Finished && o.Kind is BackupOperationKind.Drill or BackupOperationKind.Restore);
        var deletions = busy ? [] : plan.Delete.Select(b => b.Id).ToList();
        var decision = new RetentionDecision(Next(), DateTimeOffset.UtcNow, deletions, busy ? null : plan.WalNeededFrom,
            busy ? [.. plan.Reasons, "a drill or restore is running: nothing deleted this time"] : plan.Reasons, false, 0, 0, "");
        if (dryRun) return decision;
        if (deletions.Count == 0 && decision.WalBefore is null) return decision;

        S.Retention.Add(decision);
        if (S.Retention.Count > KeptDecisions) S.Retention.RemoveRange(0, S.Retention.Count - KeptDecisions);
        await SaveAsync(); // decided before acted on: a crash in between is finished by the next run, never guessed

        var freed = 0L;
        var walFiles = 0;
        var errors = new List<string>();
        foreach (var id in deletions)
        {
            var backup = S.Backups.First(b => b.Id == id);
            foreach (var root in backup.Repositories.Where(r => r.Length > 0))
            {
                var dir = new Postgres.Backups.TierRepository(root, _env, _tier).BackupDirectory(id);
                try
                {
                    if (Directory.Exists(dir)) await engine.DeleteBackupAsync(dir, _stopping.Token);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
                {
                    errors.Add($"{dir}: {ex.Message}");
                }
            }
            freed += backup.Bytes;
            SetBackup(id, b => b with { State = BackupState.Deleted });
        }
        if (decision.WalBefore is { } walBefore && _archive is not null)
        {
            try
            {
                var (files, bytes) = await _archive.DeleteBeforeAsync(walBefore, _stopping.Token);
                walFiles = files;
                freed += bytes;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
            {
                errors.Add($"WAL: {ex.Message}");
            }
        }
        var done = decision with { CarriedOut = true, WalFilesDeleted = walFiles, BytesFreed = freed, Error = string.Join("; ", errors) };
        var at = S.Retention.FindIndex(r => r.Sequence == decision.Sequence);
        if (at >= 0) S.Retention[at] = done;
        TrimDeleted();
        await SaveAsync();
        if (deletions.Count > 0 || walFiles > 0)
        {
            logger.LogInformation("{Env}/{Tier}: retention deleted backups [{Backups}] and {WalFiles} WAL file(s), {Bytes} bytes",
                _env, _tier, string.Join(", ", deletions), walFiles, freed);
            Audit("retention/delete", errors.Count == 0 ? AuditOutcome.Ok : AuditOutcome.Failed,
                $"deleted backups [{string.Join(", ", deletions)}] and {walFiles} WAL file(s) before {new Postgres.Health.Lsn(decision.WalBefore ?? 0)}: {string.Join("; ", plan.Reasons)}"
                + (errors.Count > 0 ? $"; errors: {done.Error}" : ""), principal: principal);
        }
        return done;
    }

    /// <summary>Deleted backups stay listed for the record, the newest hundred of them.</summary>
    private void TrimDeleted()
    {
        var deleted = S.Backups.Where(b => b.State == BackupState.Deleted).ToList();
        foreach (var old in deleted.Take(Math.Max(0, deleted.Count - 100))) S.Backups.Remove(old);
    }
}
