namespace ControlPlane.Grains.Hardening;

[GenerateSerializer, Alias("controlplane.CheckSeverity")]
public enum CheckSeverity { Low = 0, Medium = 1, High = 2 }

/// <summary>Accepted: the check fails, and the operator has documented why that is knowingly so (never counted as a pass).</summary>
[GenerateSerializer, Alias("controlplane.CheckResult")]
public enum CheckResult { Pass = 0, Fail = 1, Unknown = 2, Accepted = 3 }

/// <summary>One check's outcome on one replica.</summary>
/// <param name="Current">What the instance has, in words (or why it could not be read).</param>
/// <param name="AcceptedReason">With <see cref="CheckResult.Accepted"/>: the documented reason.</param>
[GenerateSerializer, Immutable, Alias("controlplane.HardeningFinding")]
public sealed record HardeningFinding(
    [property: Id(0)] string Id,
    [property: Id(1)] string Title,
    [property: Id(2)] CheckSeverity Severity,
    [property: Id(3)] CheckResult Result,
    [property: Id(4)] string Current,
    [property: Id(5)] string Expected,
    [property: Id(6)] string Rationale,
    [property: Id(7)] string Remediation,
    [property: Id(8)] string AcceptedReason = "");

/// <summary>The audit of one replica. Error: the instance could not be read at all (every finding is then unknown).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ReplicaAudit")]
public sealed record ReplicaAudit(
    [property: Id(0)] string Replica,
    [property: Id(1)] double Score,
    [property: Id(2)] IReadOnlyList<HardeningFinding> Findings,
    [property: Id(3)] string Error = "");

/// <summary>One audit of a tier: every replica, the tier's score (the lowest replica's) and when.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TierAudit")]
public sealed record TierAudit(
    [property: Id(0)] string Environment,
    [property: Id(1)] string Tier,
    [property: Id(2)] DateTimeOffset AuditedAt,
    [property: Id(3)] double Score,
    [property: Id(4)] IReadOnlyList<ReplicaAudit> Replicas);

/// <summary>One point of a tier's score trend.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.AuditScorePoint")]
public sealed record AuditScorePoint(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] double Score,
    [property: Id(2)] int Failed,
    [property: Id(3)] int FailedHigh);

/// <summary>What one check concluded, before accepted exceptions are applied.</summary>
public sealed record Verdict(CheckResult Result, string Current)
{
    public static Verdict Pass(string current) => new(CheckResult.Pass, current);
    public static Verdict Fail(string current) => new(CheckResult.Fail, current);
    public static Verdict Unknown(string why) => new(CheckResult.Unknown, why);
    public static Verdict When(bool ok, string current) => ok ? Pass(current) : Fail(current);
}
