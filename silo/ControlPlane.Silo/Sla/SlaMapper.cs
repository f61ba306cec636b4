using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Sla;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Sla;

/// <summary>SLA records to their protobuf messages, in one place.</summary>
internal static class SlaMapper
{
    public static Proto.SlaReport ToProto(SlaReport report)
    {
        var message = new Proto.SlaReport
        {
            Environment = report.Environment,
            Tier = report.Tier,
            From = Timestamp.FromDateTimeOffset(report.From),
            To = Timestamp.FromDateTimeOffset(report.To),
            ObservedSeconds = report.ObservedSeconds,
            WritableSeconds = report.WritableSeconds,
            DowntimeSeconds = report.DowntimeSeconds,
            UnobservedSeconds = report.UnobservedSeconds,
            TargetPercent = report.TargetPercent,
            BudgetSeconds = report.BudgetSeconds,
            BudgetRemainingSeconds = report.BudgetRemainingSeconds,
            MeetsTarget = report.MeetsTarget,
            WritableNow = report.WritableNow,
            LastError = report.LastError,
        };
        if (report.AvailabilityPercent is { } availability) message.AvailabilityPercent = availability;
        if (report.BudgetRemainingRatio is { } ratio) message.BudgetRemainingRatio = ratio;
        if (report.WorstArchiveRpoSeconds is { } rpo) message.WorstArchiveRpoSeconds = rpo;
        if (report.MeasuringSince is { } since) message.MeasuringSince = Timestamp.FromDateTimeOffset(since);
        if (report.LastObservedAt is { } last) message.LastObservedAt = Timestamp.FromDateTimeOffset(last);
        message.Outages.AddRange(report.Outages.Select(o => ToProto(o, report.To)));
        message.Failovers.AddRange(report.Failovers.Select(ToProto));
        return message;
    }

    private static Proto.SlaOutage ToProto(SlaOutage outage, DateTimeOffset now)
    {
        var message = new Proto.SlaOutage
        {
            Start = Timestamp.FromDateTimeOffset(outage.Start),
            Duration = Duration.FromTimeSpan(outage.Duration(now)),
            Reason = outage.Reason,
            PrimaryBefore = outage.PrimaryBefore,
            TermBefore = outage.TermBefore,
            PrimaryAfter = outage.PrimaryAfter,
            TermAfter = outage.TermAfter,
            Interrupted = outage.Interrupted,
        };
        if (outage.End is { } end) message.End = Timestamp.FromDateTimeOffset(end);
        return message;
    }

    private static Proto.SlaFailover ToProto(SlaFailover failover)
    {
        var message = new Proto.SlaFailover
        {
            At = Timestamp.FromDateTimeOffset(failover.At),
            Kind = failover.Kind switch
            {
                DecisionKind.AutomaticFailover => "automatic_failover",
                DecisionKind.ManualFailover => "manual_failover",
                _ => "switchover",
            },
            Term = failover.Term,
            OldPrimary = failover.OldPrimary,
            NewPrimary = failover.NewPrimary,
            Outcome = failover.Outcome.ToString().ToLowerInvariant(),
        };
        if (failover.WriteOutage is { } outage) message.WriteOutage = Duration.FromTimeSpan(outage);
        return message;
    }
}
