using ControlPlane.Grains.Coverage;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Coverage;

/// <summary>Coverage records to their protobuf messages, in one place.</summary>
internal static class CoverageMapper
{
    public static Proto.Coverage ToProto(CoverageReport report)
    {
        var coverage = new Proto.Coverage
        {
            Environment = report.Environment,
            EvaluatedAt = Timestamp.FromDateTimeOffset(report.EvaluatedAt),
            Percent = report.Percent,
        };
        coverage.Areas.AddRange(report.Areas.Select(a => new Proto.AreaCoverage
        {
            Area = a.Area.Id, Title = a.Area.Title, Percent = a.Percent, Available = a.Available, Doc = a.Area.Doc, Failing = a.Failing, Stale = a.Stale,
        }));
        coverage.Tiers.AddRange(report.Tiers.Select(ToProto));
        return coverage;
    }

    private static Proto.TierCoverage ToProto(TierCoverage tier)
    {
        var message = new Proto.TierCoverage { Tier = tier.Tier, Percent = tier.Percent };
        message.Areas.AddRange(tier.Areas.Select(a =>
        {
            var area = new Proto.AreaCoverage
            {
                Area = a.Area.Id, Title = a.Area.Title, Percent = a.Percent, Available = a.Available, Doc = a.Area.Doc, Failing = a.Failing, Stale = a.Stale,
            };
            area.Items.AddRange(a.Items.Select(i => new Proto.EvidenceItem { Id = i.Id, Title = i.Title, State = ToProto(i.State), Reason = i.Reason, Fix = i.Fix }));
            return area;
        }));
        return message;
    }

    public static Proto.EvidenceState ToProto(EvidenceState state) => state switch
    {
        EvidenceState.Configured => Proto.EvidenceState.Configured,
        EvidenceState.Passing => Proto.EvidenceState.Passing,
        EvidenceState.Stale => Proto.EvidenceState.Stale,
        EvidenceState.Failing => Proto.EvidenceState.Failing,
        _ => Proto.EvidenceState.NotAvailable,
    };
}
