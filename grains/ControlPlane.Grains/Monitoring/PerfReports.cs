using ControlPlane.Postgres.Monitoring;

namespace ControlPlane.Grains.Monitoring;

/// <summary>Builds the replica's performance report from its newest samples, pure.</summary>
public static class PerfReports
{
    public static PerfReport Build(string replica, CheapSample? cheap, HeavySample? heavy, IReadOnlyDictionary<long, StatementTrack> tracks, string error)
    {
        ArgumentNullException.ThrowIfNull(tracks);
        var report = PerfReport.Empty(replica) with { Error = error };
        if (cheap is not null)
        {
            report = report with
            {
                CheapAt = cheap.At,
                LockChains = LockChains.Build(cheap.LockSessions),
                Transactions = cheap.Transactions.Select(t => new TransactionView(t.Pid, t.User, t.Database, t.ApplicationName, t.State,
                    t.TransactionAgeSeconds, t.StateAgeSeconds, t.Query)).ToList(),
                Slots = cheap.Slots.Select(s => new SlotView(s.Name, s.Type, s.Active, s.WalStatus, s.RetainedBytes)).ToList(),
                CacheHitRatio = cheap.CacheHitRatio,
                XidAge = cheap.XidAge,
                OldestDatabase = cheap.OldestDatabase,
                CheapSampleMs = cheap.Duration.TotalMilliseconds,
            };
        }
        if (heavy is not null)
        {
            report = report with
            {
                HeavyAt = heavy.At,
                Database = heavy.Database,
                StatementsAvailable = heavy.StatementsAvailable,
                Statements = heavy.Statements.Select(s => View(s, tracks.GetValueOrDefault(s.QueryId)))
                    .OrderByDescending(s => s.Regressed).ThenByDescending(s => s.TotalMs).ToList(),
                SeqScanTables = IndexAdvisor.SeqScanHeavy(heavy.Tables)
                    .Select(t => new TableScanView(t.Schema, t.Table, t.SeqScans, t.SeqRowsRead, t.IndexScans, t.LiveRows, t.SizeBytes)).ToList(),
                Advice = IndexAdvisor.Advise(heavy),
                HeavySampleMs = heavy.Duration.TotalMilliseconds,
            };
        }
        return report;
    }

    private static StatementView View(StatementStats s, StatementTrack? track) =>
        new(s.QueryId, s.Query, s.Calls, s.TotalMs, s.MeanMs, s.Rows, s.SharedBlocksHit, s.SharedBlocksRead, s.TempBlocksWritten,
            track?.IntervalMeanMs, track?.BaselineMs, track?.Regressed ?? false);
}
