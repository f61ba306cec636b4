using ControlPlane.Grains.Consistency;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Consistency;

/// <summary>Consistency reports to their protobuf messages, in one place.</summary>
internal static class ConsistencyMapper
{
    public static Proto.ConsistencyReport ToProto(ConsistencyReport report)
    {
        var message = new Proto.ConsistencyReport
        {
            Environment = report.Environment,
            Tier = report.Tier,
            CheckedAt = Timestamp.FromDateTimeOffset(report.CheckedAt),
            Duration = Duration.FromTimeSpan(report.Duration),
            Primary = report.Primary,
            Lsn = report.Lsn,
            RowsCompared = report.RowsCompared,
            Scheduled = report.Scheduled,
            Consistent = report.Consistent,
        };
        message.Warnings.AddRange(report.Warnings);
        message.Standbys.AddRange(report.Standbys.Select(s => new Proto.StandbyConsistency { Replica = s.Replica, ReplayLsn = s.ReplayLsn, Error = s.Error }));
        message.Pairs.AddRange(report.Pairs.Select(p => new Proto.PairConsistency
        {
            Name = p.Name, LeftTier = p.LeftTier, Left = p.Left, RightTier = p.RightTier, Right = p.Right, Error = p.Error, Equal = p.Equal,
        }));
        message.Tables.AddRange(report.Tables.Select(ToProto));
        return message;
    }

    private static Proto.TableConsistency ToProto(TableConsistency table)
    {
        var message = new Proto.TableConsistency
        {
            Table = table.Table,
            Mode = table.Mode switch
            {
                ConsistencyTableMode.KeyRanges => Proto.ConsistencyTableMode.KeyRanges,
                ConsistencyTableMode.WholeTable => Proto.ConsistencyTableMode.WholeTable,
                _ => Proto.ConsistencyTableMode.NoPrimaryKey,
            },
            Chunks = table.Chunks,
            Primary = ToProto(table.Primary),
            Warning = table.Warning,
            Consistent = table.Consistent,
        };
        message.Standbys.AddRange(table.Standbys.Select(ToProto));
        message.Mismatches.AddRange(table.Mismatches.Select(m =>
        {
            var mismatch = new Proto.ConsistencyMismatch { Replica = m.Replica, Range = m.Range, PrimaryRows = m.PrimaryRows, ReplicaRows = m.ReplicaRows };
            if (m.From is { } from) mismatch.From = from;
            if (m.To is { } to) mismatch.To = to;
            return mismatch;
        }));
        return message;
    }

    private static Proto.ReplicaTableDigest ToProto(ReplicaTableDigest digest) => new() { Replica = digest.Replica, Rows = digest.Rows, Checksum = digest.Checksum };
}
