using System.Globalization;
using ControlPlane.Grains.Hardening;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Hardening;

/// <summary>Audit records to their protobuf messages, in one place.</summary>
internal static class HardeningMapper
{
    public static Proto.SecurityAudit ToProto(TierAudit audit)
    {
        var message = new Proto.SecurityAudit
        {
            Environment = audit.Environment,
            Tier = audit.Tier,
            AuditedAt = Timestamp.FromDateTimeOffset(audit.AuditedAt),
            Score = audit.Score,
            FailedHigh = audit.Replicas.SelectMany(r => r.Findings).Count(f => f.Result == CheckResult.Fail && f.Severity == CheckSeverity.High),
        };
        message.Replicas.AddRange(audit.Replicas.Select(ToProto));
        return message;
    }

    public static Proto.ReplicaSecurityAudit ToProto(ReplicaAudit audit)
    {
        var message = new Proto.ReplicaSecurityAudit
        {
            Replica = audit.Replica,
            Score = audit.Score,
            Error = audit.Error,
            Passed = audit.Findings.Count(f => f.Result == CheckResult.Pass),
            Failed = audit.Findings.Count(f => f.Result == CheckResult.Fail),
            Unknown = audit.Findings.Count(f => f.Result == CheckResult.Unknown),
            Accepted = audit.Findings.Count(f => f.Result == CheckResult.Accepted),
        };
        message.Findings.AddRange(audit.Findings.Select(f => new Proto.HardeningFinding
        {
            Id = f.Id,
            Title = f.Title,
            Severity = ToProto(f.Severity),
            Result = f.Result switch
            {
                CheckResult.Pass => Proto.CheckResult.Pass,
                CheckResult.Fail => Proto.CheckResult.Fail,
                CheckResult.Accepted => Proto.CheckResult.Accepted,
                _ => Proto.CheckResult.Unknown,
            },
            Current = f.Current,
            Expected = f.Expected,
            Rationale = f.Rationale,
            Remediation = f.Remediation,
            AcceptedReason = f.AcceptedReason,
        }));
        return message;
    }

    public static Proto.SecurityScorePoint ToProto(AuditScorePoint point) => new()
    {
        At = Timestamp.FromDateTimeOffset(point.At),
        Score = point.Score,
        Failed = point.Failed,
        FailedHigh = point.FailedHigh,
    };

    public static Proto.ListHardeningChecksResponse Checks()
    {
        var response = new Proto.ListHardeningChecksResponse { VersionsUpdatedOn = KnownVersions.UpdatedOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) };
        response.Checks.AddRange(HardeningChecks.All.Select(c => new Proto.HardeningCheck
        {
            Id = c.Id,
            Title = c.Title,
            Severity = ToProto(c.Severity),
            Expected = c.Expected,
            Rationale = c.Rationale,
            Remediation = c.Remediation,
        }));
        return response;
    }

    private static Proto.CheckSeverity ToProto(CheckSeverity severity) => severity switch
    {
        CheckSeverity.High => Proto.CheckSeverity.High,
        CheckSeverity.Medium => Proto.CheckSeverity.Medium,
        _ => Proto.CheckSeverity.Low,
    };
}
