using ControlPlane.Grains.Tenants;
using ControlPlane.Silo.Pools;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Tenants;

/// <summary>Tenant records to their protobuf messages and back, in one place.</summary>
internal static class TenantMapper
{
    public static Proto.TenantInfo ToProto(TenantView t)
    {
        var info = new Proto.TenantInfo
        {
            Environment = t.Environment,
            Name = t.Name,
            State = ToProto(t.State),
            CreatedAt = Timestamp.FromDateTimeOffset(t.CreatedAt),
            Version = t.Version,
        };
        info.Plans.AddRange(t.Plans.Select(PoolMapper.ToProto));
        info.Placements.AddRange(t.Placements.Select(ToProto));
        info.History.AddRange(t.History.Select(h => new Proto.TenantHistoryEntry
        {
            At = Timestamp.FromDateTimeOffset(h.At), State = ToProto(h.State), Event = h.Event, Principal = h.Principal,
        }));
        if (t.Operation is { } op) info.Operation = ToProto(op);
        if (t.EraseReport is { } report) info.EraseReport = ToProto(report);
        if (t.Probe is { } probe) info.Probe = ToProto(probe);
        if (t.AnonymiseReport is { } anonymised) info.AnonymiseReport = PiiMapper.ToProto(anonymised);
        foreach (var a in t.Audits ?? [])
        {
            var audit = new Proto.TenantTierAudit { Tier = a.Tier, At = Timestamp.FromDateTimeOffset(a.At) };
            audit.Findings.AddRange(a.Findings.Select(ToProto));
            info.Audits.Add(audit);
        }
        return info;
    }

    public static Proto.TenantAuditResponse ToProto(string env, string tenant, TierIsolationAudit audit)
    {
        var findings = tenant.Length > 0 ? audit.For(tenant) : audit.Findings;
        var response = new Proto.TenantAuditResponse
        {
            Environment = env,
            Tier = audit.Tier,
            Tenant = tenant,
            At = Timestamp.FromDateTimeOffset(audit.At),
            Replica = audit.Replica,
            TookMs = (long)audit.Took.TotalMilliseconds,
            Tenants = audit.Tenants,
            Objects = audit.Objects,
            Critical = findings.Count(f => f.Severity == IsolationSeverity.Critical),
        };
        response.Findings.AddRange(findings.Select(ToProto));
        return response;
    }

    private static Proto.IsolationFinding ToProto(IsolationFinding f) => new()
    {
        Rule = f.Rule,
        Severity = f.Severity.ToString().ToLowerInvariant(),
        Tenant = f.Tenant,
        Object = f.Object,
        Explanation = f.Explanation,
        Fix = f.Fix,
    };

    public static Proto.TenantState ToProto(TenantLifecycle state) => state switch
    {
        TenantLifecycle.Registering => Proto.TenantState.Registering,
        TenantLifecycle.Active => Proto.TenantState.Active,
        TenantLifecycle.Suspended => Proto.TenantState.Suspended,
        TenantLifecycle.Moving => Proto.TenantState.Moving,
        TenantLifecycle.Erasing => Proto.TenantState.Erasing,
        TenantLifecycle.Erased => Proto.TenantState.Erased,
        _ => Proto.TenantState.Unspecified,
    };

    public static Proto.TenantPlacement ToProto(TenantPlacement p) => new()
    {
        Tier = p.Tier,
        Kind = p.Kind == PlacementKind.Shared ? Proto.PlacementKind.Shared : Proto.PlacementKind.Schema,
        Role = p.Role,
        PasswordFile = p.PasswordFile,
    };

    /// <summary>The kind of a requested placement; null when the value is not a known kind.</summary>
    public static PlacementKind? FromProto(Proto.PlacementKind kind) => kind switch
    {
        Proto.PlacementKind.Unspecified or Proto.PlacementKind.Schema => PlacementKind.Schema,
        Proto.PlacementKind.Shared => PlacementKind.Shared,
        _ => null,
    };

    private static Proto.TenantOperation ToProto(TenantOperation op)
    {
        var proto = new Proto.TenantOperation
        {
            Id = op.Id,
            Command = TenantLifecyclePolicy.Word(op.Command),
            Target = ToProto(op.Target),
            Next = op.Next,
            Principal = op.Principal,
            StartedAt = Timestamp.FromDateTimeOffset(op.StartedAt),
            LastError = op.LastError,
            Attempts = op.Attempts,
            Reason = op.Reason,
        };
        proto.Steps.AddRange(op.Steps.Select(s => new Proto.TenantStep { Kind = s.Kind.ToString().ToLowerInvariant(), Tier = s.Tier }));
        return proto;
    }

    private static Proto.TenantProbe ToProto(TenantProbeResult probe)
    {
        var proto = new Proto.TenantProbe { At = Timestamp.FromDateTimeOffset(probe.At), Leaks = probe.Leaks };
        proto.Findings.AddRange(probe.Findings.Select(f => new Proto.TenantProbeFinding
        {
            Tier = f.Tier, Target = f.Target, Attempt = f.Attempt, Leaked = f.Leaked, Detail = f.Detail,
        }));
        proto.Skipped.AddRange(probe.Skipped);
        return proto;
    }

    private static Proto.TenantEraseReport ToProto(TenantEraseReport report)
    {
        var proto = new Proto.TenantEraseReport
        {
            CompletedAt = Timestamp.FromDateTimeOffset(report.CompletedAt),
            Digest = report.Digest,
            Verified = report.Verified,
        };
        foreach (var tier in report.Tiers)
        {
            var t = new Proto.TierEraseReport
            {
                Tier = tier.Tier,
                Replica = tier.Replica,
                SchemaRemains = tier.SchemaRemains,
                RoleRemains = tier.RoleRemains,
                RowsRemaining = tier.RowsRemaining,
            };
            t.Removed.AddRange(tier.Removed);
            t.Rows.AddRange(tier.Rows.Select(r => new Proto.TenantTableRows { Table = r.Table, Before = r.Before, After = r.After }));
            proto.Tiers.Add(t);
        }
        return proto;
    }
}
