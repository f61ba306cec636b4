using System.Text.RegularExpressions;
using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Health;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Failover;

/// <summary>Failover records to their protobuf messages and back, in one place.</summary>
internal static partial class FailoverMapper
{
    public static Proto.Operation ToProto(OperationRecord o)
    {
        var op = new Proto.Operation
        {
            Id = o.Id,
            Kind = Snake(o.Kind.ToString()),
            Environment = o.Environment,
            Tier = o.Tier,
            Target = o.Target ?? "",
            AllowDataLoss = o.AllowDataLoss,
            Principal = o.Principal,
            State = o.State switch
            {
                OperationState.Pending => Proto.OperationState.Pending,
                OperationState.Running => Proto.OperationState.Running,
                OperationState.Succeeded => Proto.OperationState.Succeeded,
                OperationState.Failed => Proto.OperationState.Failed,
                _ => Proto.OperationState.Unspecified,
            },
            StartedAt = Timestamp.FromDateTimeOffset(o.StartedAt),
            Error = o.Error,
            Term = o.Term,
        };
        if (o.FinishedAt is { } f) op.FinishedAt = Timestamp.FromDateTimeOffset(f);
        op.Steps.AddRange(o.Steps.Select(s => new Proto.OperationStep { At = Timestamp.FromDateTimeOffset(s.At), Message = s.Message }));
        return op;
    }

    public static Proto.Decision ToProto(DecisionRecord d)
    {
        var decision = new Proto.Decision
        {
            Sequence = d.Sequence,
            At = Timestamp.FromDateTimeOffset(d.At),
            Kind = Snake(d.Kind.ToString()),
            Term = d.Term,
            OldPrimary = d.OldPrimary,
            NewPrimary = d.NewPrimary,
            Reason = d.Reason,
            Principal = d.Principal,
            OperationId = d.OperationId ?? "",
            Outcome = Snake(d.Outcome.ToString()),
        };
        decision.Evidence.AddRange(d.Evidence);
        decision.Steps.AddRange(d.Steps);
        if (d.CompletedAt is { } c) decision.CompletedAt = Timestamp.FromDateTimeOffset(c);
        return decision;
    }

    public static Proto.FailoverSettings ToProto(string environment, string tier, FailoverSettings s)
    {
        var settings = new Proto.FailoverSettings
        {
            Environment = environment,
            Tier = tier,
            AutoFailover = s.AutoFailover,
            FailureThreshold = s.FailureThreshold,
            ProbeIntervalMs = (int)s.ProbeInterval.TotalMilliseconds,
            ProbeTimeoutMs = (int)s.ProbeTimeout.TotalMilliseconds,
            MaxLagOnFailoverBytes = s.MaxLagOnFailoverBytes,
            MaxLagOnFailoverSeconds = s.MaxLagOnFailoverSeconds,
            SynchronousDegradeAfterMs = (int)s.SynchronousDegradeAfter.TotalMilliseconds,
            CrashLoopCount = s.CrashLoopCount,
            CrashLoopWindowSeconds = (int)s.CrashLoopWindow.TotalSeconds,
            DiskFullBelowBytes = s.DiskFullBelowBytes,
            DiskWriteCheckBelowBytes = s.DiskWriteCheckBelowBytes,
            NotStreamingHealAfterSeconds = (int)s.NotStreamingHealAfter.TotalSeconds,
            SynchronousMode = s.SynchronousMode switch
            {
                SynchronousMode.On => Proto.SynchronousMode.On,
                SynchronousMode.Strict => Proto.SynchronousMode.Strict,
                _ => Proto.SynchronousMode.Off,
            },
        };
        foreach (var (name, priority) in s.Priorities) settings.Priorities[name] = priority;
        return settings;
    }

    /// <summary>The new settings: what the request sets, the current value where it leaves a field at zero.</summary>
    public static FailoverSettings Merge(FailoverSettings current, Proto.FailoverSettings requested) => current with
    {
        AutoFailover = requested.AutoFailover,
        FailureThreshold = requested.FailureThreshold != 0 ? requested.FailureThreshold : current.FailureThreshold,
        ProbeInterval = requested.ProbeIntervalMs != 0 ? TimeSpan.FromMilliseconds(requested.ProbeIntervalMs) : current.ProbeInterval,
        ProbeTimeout = requested.ProbeTimeoutMs != 0 ? TimeSpan.FromMilliseconds(requested.ProbeTimeoutMs) : current.ProbeTimeout,
        MaxLagOnFailoverBytes = requested.MaxLagOnFailoverBytes != 0 ? requested.MaxLagOnFailoverBytes : current.MaxLagOnFailoverBytes,
        MaxLagOnFailoverSeconds = requested.MaxLagOnFailoverSeconds != 0 ? requested.MaxLagOnFailoverSeconds : current.MaxLagOnFailoverSeconds,
        SynchronousMode = requested.SynchronousMode switch
        {
            Proto.SynchronousMode.Off => SynchronousMode.Off,
            Proto.SynchronousMode.On => SynchronousMode.On,
            Proto.SynchronousMode.Strict => SynchronousMode.Strict,
            _ => current.SynchronousMode,
        },
        Priorities = requested.Priorities.ToDictionary(kv => kv.Key, kv => kv.Value),
        SynchronousDegradeAfter = requested.HasSynchronousDegradeAfterMs
            ? TimeSpan.FromMilliseconds(requested.SynchronousDegradeAfterMs) : current.SynchronousDegradeAfter,
        CrashLoopCount = requested.HasCrashLoopCount ? requested.CrashLoopCount : current.CrashLoopCount,
        CrashLoopWindow = requested.CrashLoopWindowSeconds != 0 ? TimeSpan.FromSeconds(requested.CrashLoopWindowSeconds) : current.CrashLoopWindow,
        DiskFullBelowBytes = requested.DiskFullBelowBytes != 0 ? requested.DiskFullBelowBytes : current.DiskFullBelowBytes,
        DiskWriteCheckBelowBytes = requested.DiskWriteCheckBelowBytes != 0 ? requested.DiskWriteCheckBelowBytes : current.DiskWriteCheckBelowBytes,
        NotStreamingHealAfter = requested.NotStreamingHealAfterSeconds != 0
            ? TimeSpan.FromSeconds(requested.NotStreamingHealAfterSeconds) : current.NotStreamingHealAfter,
    };

    public static Proto.Routing Routing(TierSnapshot s)
    {
        var routing = new Proto.Routing { Environment = s.Environment, Tier = s.Name, Term = s.Term, Version = s.Version };
        foreach (var r in s.Replicas)
        {
            var endpoint = new Proto.Endpoint
            {
                Replica = r.Name, Host = r.Host, Port = r.Port, Healthy = r.Healthy, LagBytes = r.LagBytes, LagSeconds = r.LagSeconds,
            };
            if (r.Name == s.Primary) routing.Primary = endpoint;
            else routing.Standbys.Add(endpoint);
        }
        routing.Writable = routing.Primary is { Healthy: true };
        return routing;
    }

    public static Proto.Divergence ToProto(DivergenceRecord d)
    {
        var proto = new Proto.Divergence
        {
            Replica = d.Replica, Timeline = d.Timeline, StartLsn = new Lsn(d.StartLsn).ToString(), EndLsn = new Lsn(d.EndLsn).ToString(),
            NewPrimary = d.NewPrimary, NewTimeline = d.NewTimeline, Term = d.Term, SavedAt = Timestamp.FromDateTimeOffset(d.SavedAt),
            Directory = d.Directory, Records = d.Records, Bytes = d.Bytes, RecordsOutsideTransactions = d.RecordsOutsideTransactions, Committed = d.Committed,
        };
        proto.Segments.AddRange(d.Segments);
        proto.Transactions.AddRange(d.Transactions.Select(t =>
        {
            var tx = new Proto.DivergentTransaction
            {
                Xid = t.Xid, Outcome = Snake(t.Outcome), Records = t.Records, Bytes = t.Bytes,
                FirstLsn = new Lsn(t.FirstLsn).ToString(), LastLsn = new Lsn(t.LastLsn).ToString(), EndedAt = t.EndedAt ?? "",
            };
            tx.Relations.AddRange(t.Relations.Select(r => new Proto.DivergentRelation { Relation = r.Relation, Records = r.Records }));
            return tx;
        }));
        return proto;
    }

    private static string Snake(string pascal) => SnakeRegex().Replace(pascal, "_$1").ToLowerInvariant();

    [GeneratedRegex("(?<!^)([A-Z])", RegexOptions.CultureInvariant)]
    private static partial Regex SnakeRegex();
}
