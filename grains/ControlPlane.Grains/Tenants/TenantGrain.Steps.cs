using ControlPlane.Grains.Health;
using ControlPlane.Grains.Security;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Tenants;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Tenants;

public sealed partial class TenantGrain
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Runs the operation's steps from the current one. Each step is done, then recorded as done (a crash in between
    /// repeats the step, which is idempotent). A failing step stays current, with its error; the caller is told.
    /// </summary>
    private async Task RunAsync()
    {
        while (S.Operation is { Done: false } op)
        {
            var step = op.CurrentStep()!;
            try
            {
                using var cts = new CancellationTokenSource(StepTimeout);
                await RunStepAsync(op, step, cts.Token);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                var error = $"step {op.Next + 1} of {op.Steps.Count} ({Describe(step)}) failed: {e.Message}";
                S.Operation = op with { LastError = error, Attempts = op.Attempts + 1 };
                Remember(error, AuditEntry.ControlPlane);
                await SaveAsync();
                logger.LogWarning(e, "Tenant {Environment}/{Tenant}, operation {Operation}: {Error}", _env, _name, op.Id, error);
                throw new TenantRefusedException($"tenant '{_name}': {error}; the operation stays under way and is retried every minute, or by the same command.");
            }
            S.Operation = S.Operation! with { Next = op.Next + 1, LastError = "" };
            await SaveAsync();
        }
        if (await this.GetReminder(StepsReminder) is { } reminder) await this.UnregisterReminder(reminder);
    }

    private async Task RunStepAsync(TenantOperation op, TenantStep step, CancellationToken ct)
    {
        switch (step.Kind)
        {
            case TenantStepKind.Provision:
                var placement = Placement(step.Tier);
                var limit = Math.Max(S.Plans.FirstOrDefault(p => p.Tier == step.Tier)?.Max ?? 10, 1);
                await Provisioner.ProvisionAsync(await PrimaryAsync(step.Tier), _name, placement.Kind == PlacementKind.Shared, placement.PasswordFile, limit, ct);
                break;
            case TenantStepKind.Index:
                await Registry.Index(Record(), S.Lifecycle);
                break;
            case TenantStepKind.Pools when op.Target == TenantLifecycle.Active:
                if (S.Plans.FirstOrDefault(p => p.Tier == step.Tier) is { } plan) await Pool(step.Tier).PlanChanged(_name, plan);
                break;
            case TenantStepKind.Pools:
                var revoked = await Pool(step.Tier).RevokeTenant(_name, $"tenant {TenantLifecyclePolicy.Word(op.Command)} ({op.Id})", op.Principal);
                if (revoked.Count > 0) Remember($"{revoked.Count} lease(s) on {step.Tier} revoked: {string.Join(", ", revoked)}", op.Principal);
                break;
            case TenantStepKind.Lock:
                var ended = await Provisioner.LockAsync(await PrimaryAsync(step.Tier), _name, ct);
                Remember($"role {TenantProvisioner.RoleOf(_name)} on {step.Tier}: NOLOGIN, {ended} session(s) ended", op.Principal);
                break;
            case TenantStepKind.Unlock:
                await Provisioner.UnlockAsync(await PrimaryAsync(step.Tier), _name, ct);
                break;
            case TenantStepKind.Drop:
                await DropAsync(step.Tier, ct);
                break;
            case TenantStepKind.Anonymise:
                await AnonymiseTierAsync(op, step.Tier, ct);
                break;
            case TenantStepKind.Finish:
                await FinishAsync(op);
                break;
            default:
                throw new InvalidOperationException($"unknown step {step.Kind}");
        }
    }

    private async Task DropAsync(string tier, CancellationToken ct)
    {
        var primary = await PrimaryAsync(tier);
        var result = await Provisioner.DropAsync(primary, _name, ct);
        var placement = Placement(tier);
        if (placement.PasswordFile.Length > 0 && File.Exists(placement.PasswordFile)) File.Delete(placement.PasswordFile);
        S.ErasedTiers.RemoveAll(t => t.Tier == tier);
        S.ErasedTiers.Add(new TierEraseReport(tier, primary.Name, result.Removed,
            result.Rows.Select(r => new TenantTableRows(r.Table, r.Before, r.After)).ToList(),
            result.SchemaRemains, result.RoleRemains, result.RowsRemaining));
    }

    private async Task FinishAsync(TenantOperation op)
    {
        S.Lifecycle = op.Target;
        if (op.Command == TenantCommand.Erase)
        {
            S.EraseReport = TenantEraseReports.Seal(_name, DateTimeOffset.UtcNow, S.ErasedTiers);
            var outcome = S.EraseReport.Verified ? AuditOutcome.Ok : AuditOutcome.Failed;
            Audit("erase", outcome, $"erase {op.Id} of tenant {_name}: {(S.EraseReport.Verified ? "verified" : "NOT verified")}, digest {S.EraseReport.Digest}", op.Id, op.Principal);
        }
        if (op.Command == TenantCommand.Anonymise) SealAnonymise(op);
        Remember($"{TenantLifecyclePolicy.Word(op.Command)} finished ({op.Id}): {TenantLifecyclePolicy.Word(op.Target)}", op.Principal);
        await Registry.Index(Record(), S.Lifecycle);
        logger.LogInformation("Tenant {Environment}/{Tenant}: {Command} finished ({Operation}), now {State}",
            _env, _name, op.Command, op.Id, op.Target);
    }

    private TenantPlacement Placement(string tier) =>
        S.Placements.FirstOrDefault(p => p.Tier == tier) ?? throw new InvalidOperationException($"tenant '{_name}' has no placement on tier '{tier}'.");

    private Task<ReplicaEndpoint> PrimaryAsync(string tier) => TenantTiers.PrimaryAsync(GrainFactory, _env, tier);

    private TenantProvisioner Provisioner => new(logger);

    private static string Describe(TenantStep step) =>
        step.Tier.Length == 0 ? step.Kind.ToString().ToLowerInvariant() : $"{step.Kind.ToString().ToLowerInvariant()} on {step.Tier}";
}
