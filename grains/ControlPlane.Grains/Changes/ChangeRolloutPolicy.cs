namespace ControlPlane.Grains.Changes;

/// <summary>What the rollout does next.</summary>
public enum RolloutStepKind
{
    /// <summary>Run these targets of the current batch (after the tier health check when it is not the first batch).</summary>
    Run,
    /// <summary>The current batch is done: move to the next one after the pause.</summary>
    Advance,
    /// <summary>A target failed: stop, report it, wait for resume or rollback.</summary>
    Halt,
    /// <summary>Nothing left to do in this direction.</summary>
    Complete,
}

public sealed record RolloutStep(RolloutStepKind Kind, int Batch, IReadOnlyList<string> Targets, string Reason = "");

/// <summary>Why a command is refused; the gateway maps each to a gRPC status.</summary>
public enum ChangeRefusal
{
    None,
    /// <summary>The caller may not do this (the author approving their own change).</summary>
    Denied,
    /// <summary>The change's phase or findings forbid it now.</summary>
    Precondition,
}

public sealed record ChangeDecision(ChangeRefusal Refusal, string Reason)
{
    public static ChangeDecision Allow { get; } = new(ChangeRefusal.None, "");

    public bool Allowed => Refusal == ChangeRefusal.None;
}

/// <summary>
/// The change workflow's decisions, pure: who may approve, when a rollout may start, how targets are batched, and what
/// the rollout does next from its persisted state. The grain gathers the state, asks here, persists, then acts, so a
/// new activation after a crash asks again from the same state and continues where it stopped.
/// </summary>
public static class ChangeRolloutPolicy
{
    /// <summary>Batch number of each target, in target order: the canaries are batch 0, then batches of <see cref="ChangeStrategy.BatchSize"/>.</summary>
    public static IReadOnlyList<int> Batches(int targets, ChangeStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        var canary = Math.Min(strategy.CanaryTargets, targets);
        var batches = new int[targets];
        for (var i = 0; i < targets; i++)
        {
            batches[i] = i < canary ? 0 : (canary > 0 ? 1 : 0) + (i - canary) / strategy.BatchSize;
        }
        return batches;
    }

    public static ChangeDecision Approve(ChangePhase phase, string author, string approver, IReadOnlyCollection<ChangeApproval> approvals, int lintErrors, string waiver)
    {
        ArgumentNullException.ThrowIfNull(approvals);
        if (phase is not (ChangePhase.Submitted or ChangePhase.Approved))
            return new(ChangeRefusal.Precondition, $"the change is {Word(phase)}; only a submitted change can be approved");
        if (string.Equals(author, approver, StringComparison.Ordinal))
            return new(ChangeRefusal.Denied, $"'{approver}' is the change's author; another operator must approve it");
        if (approvals.Any(a => a.Principal == approver))
            return new(ChangeRefusal.Precondition, $"'{approver}' has already approved the change; another operator must approve it");
        if (lintErrors > 0 && string.IsNullOrWhiteSpace(waiver))
            return new(ChangeRefusal.Precondition, $"the change has {lintErrors} lint error(s); fix them and submit again, or approve with a waiver giving the reason");
        return ChangeDecision.Allow;
    }

    public static ChangeDecision Rollout(ChangePhase phase, int approvals, int required)
    {
        if (phase == ChangePhase.Submitted)
            return new(ChangeRefusal.Precondition, $"the change has {approvals} of {required} required approval(s); it cannot roll out yet");
        if (phase != ChangePhase.Approved)
            return new(ChangeRefusal.Precondition, $"the change is {Word(phase)}; only an approved change can start a rollout (a halted one resumes)");
        return ChangeDecision.Allow;
    }

    public static ChangeDecision Resume(ChangePhase phase) => phase == ChangePhase.Halted
        ? ChangeDecision.Allow
        : new(ChangeRefusal.Precondition, $"the change is {Word(phase)}; only a halted change can resume");

    public static ChangeDecision Halt(ChangePhase phase) => phase is ChangePhase.RollingOut or ChangePhase.RollingBack
        ? ChangeDecision.Allow
        : new(ChangeRefusal.Precondition, $"the change is {Word(phase)}; only a running rollout or rollback can halt");

    public static ChangeDecision Rollback(ChangePhase phase, IReadOnlyCollection<long> appliedWithoutUndo)
    {
        ArgumentNullException.ThrowIfNull(appliedWithoutUndo);
        if (phase is not (ChangePhase.Halted or ChangePhase.Completed))
            return new(ChangeRefusal.Precondition, $"the change is {Word(phase)}; only a halted or completed change can roll back (halt it first)");
        if (appliedWithoutUndo.Count > 0)
            return new(ChangeRefusal.Precondition,
                $"version(s) {string.Join(", ", appliedWithoutUndo.Order())} were applied but have no U<version>__<name>.sql undo file; write a new forward change instead");
        return ChangeDecision.Allow;
    }

    /// <summary>The next step of a rollout (forward) or rollback (back) from the targets' persisted states.</summary>
    public static RolloutStep Next(ChangeDirection direction, IReadOnlyList<ChangeTarget> targets, int batch, int batches)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.FirstOrDefault(t => t.State == ChangeTargetState.Failed) is { } failed)
            return new(RolloutStepKind.Halt, batch, [failed.Schema], $"target {failed.Schema} failed: {failed.Error}");
        if (direction == ChangeDirection.Back)
        {
            var undo = targets.Where(NeedsUndo).Select(t => t.Schema).ToArray();
            return undo.Length == 0 ? new(RolloutStepKind.Complete, batch, []) : new(RolloutStepKind.Run, batch, undo);
        }
        if (batch >= batches) return new(RolloutStepKind.Complete, batch, []);
        var run = targets.Where(t => t.Batch == batch && t.State is ChangeTargetState.Pending or ChangeTargetState.Applying)
            .Select(t => t.Schema).ToArray();
        return run.Length > 0 ? new(RolloutStepKind.Run, batch, run) : new(RolloutStepKind.Advance, batch, []);
    }

    /// <summary>
    /// How many targets of a batch run at once: the strategy's concurrency, but never more than the sessions the tier's
    /// pool granted the change's lease (a grant is at least one when the lease was given at all).
    /// </summary>
    public static int Sessions(int concurrency, int granted) => Math.Max(1, Math.Min(concurrency, granted));

    /// <summary>A target that applied versions of this change and has not undone them all.</summary>
    public static bool NeedsUndo(ChangeTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return target.Applied.Count > 0 && target.State != ChangeTargetState.Blocked;
    }

    public static string Word(ChangePhase phase) => phase switch
    {
        ChangePhase.RollingOut => "rolling out",
        ChangePhase.RollingBack => "rolling back",
        ChangePhase.RolledBack => "rolled back",
        _ => phase.ToString().ToLowerInvariant(),
    };
}
