namespace ControlPlane.Grains.Changes;

/// <summary>Where a change is in its life.</summary>
[GenerateSerializer, Alias("controlplane.ChangePhase")]
public enum ChangePhase
{
    /// <summary>Linted and planned; waiting for approvals.</summary>
    Submitted = 0,
    /// <summary>Enough approvals; may roll out.</summary>
    Approved = 1,
    RollingOut = 2,
    /// <summary>Stopped by a failure or an operator; resume or roll back.</summary>
    Halted = 3,
    /// <summary>Every target has the change (or is blocked by drift and reported).</summary>
    Completed = 4,
    RollingBack = 5,
    RolledBack = 6,
}

/// <summary>Where one target is.</summary>
[GenerateSerializer, Alias("controlplane.ChangeTargetState")]
public enum ChangeTargetState
{
    Pending = 0,
    Applying = 1,
    Applied = 2,
    Failed = 3,
    /// <summary>Its history disagrees with the set (drift): nothing is applied until an operator resolves it.</summary>
    Blocked = 4,
    RollingBack = 5,
    RolledBack = 6,
}

/// <summary>A file of the submitted set, byte for byte (checksums are over these bytes).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ChangeFile")]
public sealed record ChangeFile([property: Id(0)] string FileName, [property: Id(1)] byte[] Content);

/// <summary>How a rollout proceeds: canary targets first, then batches, a pause and a tier health check between batches.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ChangeStrategy")]
public sealed record ChangeStrategy(
    [property: Id(0)] int CanaryTargets,
    [property: Id(1)] int BatchSize,
    [property: Id(2)] TimeSpan Pause,
    [property: Id(3)] int Concurrency,
    [property: Id(4)] TimeSpan LockTimeout,
    [property: Id(5)] TimeSpan StatementTimeout)
{
    public static ChangeStrategy Default { get; } = new(1, 10, TimeSpan.FromSeconds(5), 4, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(10));

    /// <summary>What is wrong with these settings, each naming its field; empty when usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (CanaryTargets is < 0 or > 100) errors.Add($"canary_targets {CanaryTargets} is out of range; expected 0 to 100.");
        if (BatchSize is < 1 or > 10_000) errors.Add($"batch_size {BatchSize} is out of range; expected 1 to 10000.");
        if (Pause < TimeSpan.Zero || Pause > TimeSpan.FromHours(1)) errors.Add($"pause {Pause} is out of range; expected 0 to 1 hour.");
        if (Concurrency is < 1 or > 64) errors.Add($"concurrency {Concurrency} is out of range; expected 1 to 64.");
        if (LockTimeout < TimeSpan.FromMilliseconds(10) || LockTimeout > TimeSpan.FromMinutes(10))
            errors.Add($"lock_timeout {LockTimeout} is out of range; expected 10 ms to 10 minutes.");
        if (StatementTimeout < TimeSpan.FromSeconds(1) || StatementTimeout > TimeSpan.FromHours(24))
            errors.Add($"statement_timeout {StatementTimeout} is out of range; expected 1 s to 24 hours.");
        return errors;
    }
}

[GenerateSerializer, Immutable, Alias("controlplane.ChangeApproval")]
public sealed record ChangeApproval(
    [property: Id(0)] string Principal,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] string Waiver = "");

/// <summary>One lint finding as the change keeps it.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ChangeFinding")]
public sealed record ChangeFinding(
    [property: Id(0)] string RuleId,
    [property: Id(1)] bool Error,
    [property: Id(2)] string FileName,
    [property: Id(3)] int Line,
    [property: Id(4)] string Message,
    [property: Id(5)] string SafeRewrite);

/// <summary>One statement of the plan: what it locks and for how long.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ChangePlanStatement")]
public sealed record ChangePlanStatement(
    [property: Id(0)] long Version,
    [property: Id(1)] int Index,
    [property: Id(2)] string Kind,
    [property: Id(3)] string Lock,
    [property: Id(4)] IReadOnlyList<string> Tables,
    [property: Id(5)] bool Rewrites,
    [property: Id(6)] string Duration);

/// <summary>One target: its schema, what it still needs, what it got, and what went wrong.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ChangeTarget")]
public sealed record ChangeTarget(
    [property: Id(0)] string Schema,
    [property: Id(1)] ChangeTargetState State,
    [property: Id(2)] IReadOnlyList<long> Pending,
    [property: Id(3)] IReadOnlyList<long> Applied,
    [property: Id(4)] string Error = "",
    [property: Id(5)] long FailedVersion = 0,
    [property: Id(6)] string Statement = "",
    [property: Id(7)] IReadOnlyList<string>? Drift = null,
    [property: Id(8)] int Batch = 0)
{
    public IReadOnlyList<string> DriftOrEmpty => Drift ?? [];
}

[GenerateSerializer, Immutable, Alias("controlplane.ChangeEvent")]
public sealed record ChangeEvent(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Event,
    [property: Id(2)] string Principal);

/// <summary>Which way a rollout runs: forward (apply) or back (undo).</summary>
[GenerateSerializer, Alias("controlplane.ChangeDirection")]
public enum ChangeDirection
{
    Forward = 0,
    Back = 1,
}

/// <summary>A change as callers see it.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ChangeView")]
public sealed record ChangeView(
    [property: Id(0)] string Environment,
    [property: Id(1)] string Id,
    [property: Id(2)] string Tier,
    [property: Id(3)] string Description,
    [property: Id(4)] string Author,
    [property: Id(5)] ChangePhase Phase,
    [property: Id(6)] IReadOnlyList<long> Versions,
    [property: Id(7)] IReadOnlyList<ChangeFinding> Findings,
    [property: Id(8)] IReadOnlyList<ChangePlanStatement> Plan,
    [property: Id(9)] IReadOnlyList<ChangeApproval> Approvals,
    [property: Id(10)] int RequiredApprovals,
    [property: Id(11)] ChangeStrategy? Strategy,
    [property: Id(12)] IReadOnlyList<ChangeTarget> Targets,
    [property: Id(13)] int Batch,
    [property: Id(14)] int Batches,
    [property: Id(15)] string HaltReason,
    [property: Id(16)] IReadOnlyList<string> Tags,
    [property: Id(17)] IReadOnlyList<ChangeEvent> History,
    [property: Id(18)] DateTimeOffset SubmittedAt,
    [property: Id(19)] long Version,
    [property: Id(20)] ChangeDirection Direction);
