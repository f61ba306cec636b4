using ControlPlane.Grains.Tenants;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Tenants;

/// <summary>The personal-data catalog and anonymisation reports to their protobuf messages.</summary>
internal static class PiiMapper
{
    public static Proto.PiiColumn ToProto(PiiColumn c) => new()
    {
        Tier = c.Tier, Table = c.Table, Column = c.Column, Kind = c.Kind, DeclaredBy = c.DeclaredBy, DeclaredAt = Timestamp.FromDateTimeOffset(c.DeclaredAt),
    };

    public static Proto.PiiSuggestion ToProto(PiiSuggestionView s)
    {
        var proto = new Proto.PiiSuggestion { Tier = s.Tier, Table = s.Table, Column = s.Column, Kind = s.Kind, DataType = s.DataType, Reason = s.Reason };
        proto.Schemas.AddRange(s.Schemas);
        return proto;
    }

    public static Proto.TenantAnonymiseReport ToProto(TenantAnonymiseReport report)
    {
        var proto = new Proto.TenantAnonymiseReport
        {
            Operation = report.Operation, CompletedAt = Timestamp.FromDateTimeOffset(report.CompletedAt), Digest = report.Digest, Verified = report.Verified,
        };
        foreach (var tier in report.Tiers)
        {
            var t = new Proto.TierAnonymiseReport { Tier = tier.Tier, Replica = tier.Replica };
            t.Columns.AddRange(tier.Columns.Select(c => new Proto.AnonymisedColumn
            {
                Table = c.Table, Column = c.Column, Kind = c.Kind, Rows = c.Rows, Updated = c.Updated, Values = c.Values,
                OriginalsRemaining = c.OriginalsRemaining, Note = c.Note,
            }));
            proto.Tiers.Add(t);
        }
        return proto;
    }
}
