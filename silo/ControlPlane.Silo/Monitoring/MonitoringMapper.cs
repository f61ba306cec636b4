using ControlPlane.Grains.Monitoring;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Monitoring;

/// <summary>Performance reports and metric points to protobuf.</summary>
internal static class MonitoringMapper
{
    public static Proto.Performance ToProto(string env, string tier, PerfReport r)
    {
        var proto = new Proto.Performance
        {
            Environment = env,
            Tier = tier,
            Replica = r.Replica,
            Database = r.Database,
            StatementsAvailable = r.StatementsAvailable,
            CacheHitRatio = r.CacheHitRatio,
            XidAge = r.XidAge,
            OldestDatabase = r.OldestDatabase,
            CheapSampleMs = r.CheapSampleMs,
            HeavySampleMs = r.HeavySampleMs,
            Error = r.Error,
        };
        if (r.CheapAt is { } cheap) proto.CheapSampledAt = Timestamp.FromDateTimeOffset(cheap);
        if (r.HeavyAt is { } heavy) proto.HeavySampledAt = Timestamp.FromDateTimeOffset(heavy);
        proto.Statements.AddRange(r.Statements.Select(Statement));
        proto.SeqScanTables.AddRange(r.SeqScanTables.Select(t => new Proto.TableScan
        {
            Schema = t.Schema, Table = t.Table, SeqScans = t.SeqScans, SeqRowsRead = t.SeqRowsRead, IndexScans = t.IndexScans,
            LiveRows = t.LiveRows, SizeBytes = t.SizeBytes,
        }));
        proto.Advice.AddRange(r.Advice.Select(Advice));
        proto.LockChains.AddRange(r.LockChains.Select(Chain));
        proto.Transactions.AddRange(r.Transactions.Select(t => new Proto.OpenTransaction
        {
            Pid = t.Pid, User = t.User, Database = t.Database, ApplicationName = t.ApplicationName, State = t.State,
            TransactionAgeSeconds = t.TransactionAgeSeconds, StateAgeSeconds = t.StateAgeSeconds, Query = t.Query,
        }));
        proto.Slots.AddRange(r.Slots.Select(s =>
        {
            var slot = new Proto.SlotRetention { Name = s.Name, Type = s.Type, Active = s.Active, WalStatus = s.WalStatus ?? "" };
            if (s.RetainedBytes is { } b) slot.RetainedBytes = b;
            return slot;
        }));
        return proto;
    }

    public static Proto.MetricPoint ToProto(MetricPoint p) =>
        new() { At = Timestamp.FromDateTimeOffset(p.At), Mean = p.Mean, Min = p.Min, Max = p.Max, Count = p.Count };

    public static string Kind(AdviceKind kind) => kind switch
    {
        AdviceKind.DropUnusedIndex => "drop-unused-index",
        AdviceKind.DropDuplicateIndex => "drop-duplicate-index",
        AdviceKind.RebuildInvalidIndex => "rebuild-invalid-index",
        _ => "add-missing-index",
    };

    private static Proto.Statement Statement(StatementView s)
    {
        var proto = new Proto.Statement
        {
            QueryId = s.QueryId, Query = s.Query, Calls = s.Calls, TotalMs = s.TotalMs, MeanMs = s.MeanMs, Rows = s.Rows,
            SharedBlocksHit = s.SharedBlocksHit, SharedBlocksRead = s.SharedBlocksRead, TempBlocksWritten = s.TempBlocksWritten,
            Regressed = s.Regressed,
        };
        if (s.IntervalMeanMs is { } interval) proto.IntervalMeanMs = interval;
        if (s.BaselineMeanMs is { } baseline) proto.BaselineMeanMs = baseline;
        return proto;
    }

    private static Proto.Advice Advice(IndexAdvice a)
    {
        var proto = new Proto.Advice
        {
            Kind = Kind(a.Kind), Schema = a.Schema, Table = a.Table, Index = a.Index, Reason = a.Reason, Command = a.Command, SizeBytes = a.SizeBytes,
        };
        proto.Columns.AddRange(a.Columns);
        return proto;
    }

    private static Proto.LockChain Chain(LockChain c)
    {
        var proto = new Proto.LockChain { BlockerPid = c.BlockerPid };
        proto.Sessions.AddRange(c.Sessions.Select(s =>
        {
            var session = new Proto.LockedSession
            {
                Pid = s.Pid, User = s.User, Database = s.Database, ApplicationName = s.ApplicationName, State = s.State, Query = s.Query, Depth = s.Depth,
            };
            if (s.TransactionAgeSeconds is { } x) session.TransactionAgeSeconds = x;
            if (s.StateAgeSeconds is { } y) session.StateAgeSeconds = y;
            session.BlockedBy.AddRange(s.BlockedBy);
            session.Locks.AddRange(s.Locks);
            return session;
        }));
        return proto;
    }
}
