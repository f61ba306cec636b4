using ControlPlane.Grains.Changes;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Changes;

/// <summary>Changes between grain records and protobuf, in one place.</summary>
internal static class ChangeMapper
{
    public static Proto.ChangeInfo ToProto(ChangeView v)
    {
        var info = new Proto.ChangeInfo
        {
            Environment = v.Environment,
            ChangeId = v.Id,
            Tier = v.Tier,
            Description = v.Description,
            Author = v.Author,
            Phase = ToProto(v.Phase),
            RequiredApprovals = v.RequiredApprovals,
            Batch = v.Batch,
            Batches = v.Batches,
            HaltReason = v.HaltReason,
            SubmittedAt = Timestamp.FromDateTimeOffset(v.SubmittedAt),
            Version = v.Version,
            RollingBack = v.Direction == ChangeDirection.Back,
        };
        info.Versions.AddRange(v.Versions);
        info.Findings.AddRange(v.Findings.Select(f => new Proto.ChangeFinding
        {
            RuleId = f.RuleId, Error = f.Error, File = f.FileName, Line = f.Line, Message = f.Message, SafeRewrite = f.SafeRewrite,
        }));
        info.Plan.AddRange(v.Plan.Select(p =>
        {
            var s = new Proto.ChangePlanStatement { Version = p.Version, Index = p.Index, Kind = p.Kind, Lock = p.Lock, Rewrites = p.Rewrites, Duration = p.Duration };
            s.Tables.AddRange(p.Tables);
            return s;
        }));
        info.Approvals.AddRange(v.Approvals.Select(a => new Proto.ChangeApproval { Principal = a.Principal, At = Timestamp.FromDateTimeOffset(a.At), Waiver = a.Waiver }));
        if (v.Strategy is { } st)
        {
            info.Strategy = new Proto.ChangeStrategy
            {
                CanaryTargets = st.CanaryTargets, BatchSize = st.BatchSize, Pause = Duration.FromTimeSpan(st.Pause), Concurrency = st.Concurrency,
                LockTimeout = Duration.FromTimeSpan(st.LockTimeout), StatementTimeout = Duration.FromTimeSpan(st.StatementTimeout),
            };
        }
        info.Targets.AddRange(v.Targets.Select(ToProto));
        info.Tags.AddRange(v.Tags);
        info.History.AddRange(v.History.Select(h => new Proto.ChangeEvent { At = Timestamp.FromDateTimeOffset(h.At), Event = h.Event, Principal = h.Principal }));
        return info;
    }

    private static Proto.ChangeTarget ToProto(ChangeTarget t)
    {
        var target = new Proto.ChangeTarget
        {
            Schema = t.Schema, State = ToProto(t.State), Error = t.Error, FailedVersion = t.FailedVersion, Statement = t.Statement, Batch = t.Batch,
        };
        target.Pending.AddRange(t.Pending);
        target.Applied.AddRange(t.Applied);
        target.Drift.AddRange(t.DriftOrEmpty);
        return target;
    }

    public static Proto.ChangePhase ToProto(ChangePhase phase) => phase switch
    {
        ChangePhase.Submitted => Proto.ChangePhase.Submitted,
        ChangePhase.Approved => Proto.ChangePhase.Approved,
        ChangePhase.RollingOut => Proto.ChangePhase.RollingOut,
        ChangePhase.Halted => Proto.ChangePhase.Halted,
        ChangePhase.Completed => Proto.ChangePhase.Completed,
        ChangePhase.RollingBack => Proto.ChangePhase.RollingBack,
        ChangePhase.RolledBack => Proto.ChangePhase.RolledBack,
        _ => Proto.ChangePhase.Unspecified,
    };

    private static Proto.ChangeTargetState ToProto(ChangeTargetState state) => state switch
    {
        ChangeTargetState.Pending => Proto.ChangeTargetState.Pending,
        ChangeTargetState.Applying => Proto.ChangeTargetState.Applying,
        ChangeTargetState.Applied => Proto.ChangeTargetState.Applied,
        ChangeTargetState.Failed => Proto.ChangeTargetState.Failed,
        ChangeTargetState.Blocked => Proto.ChangeTargetState.Blocked,
        ChangeTargetState.RollingBack => Proto.ChangeTargetState.RollingBack,
        ChangeTargetState.RolledBack => Proto.ChangeTargetState.RolledBack,
        _ => Proto.ChangeTargetState.Unspecified,
    };
}
