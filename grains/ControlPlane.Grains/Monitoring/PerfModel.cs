namespace ControlPlane.Grains.Monitoring;

/// <summary>A statement as the performance report shows it; <see cref="IntervalMeanMs"/> is its mean over the last sampling interval.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.StatementView")]
public sealed record StatementView(
    [property: Id(0)] long QueryId,
    [property: Id(1)] string Query,
    [property: Id(2)] long Calls,
    [property: Id(3)] double TotalMs,
    [property: Id(4)] double MeanMs,
    [property: Id(5)] long Rows,
    [property: Id(6)] long SharedBlocksHit,
    [property: Id(7)] long SharedBlocksRead,
    [property: Id(8)] long TempBlocksWritten,
    [property: Id(9)] double? IntervalMeanMs,
    [property: Id(10)] double? BaselineMeanMs,
    [property: Id(11)] bool Regressed);

/// <summary>What to do about an index or a table, with the statement that does it (never executed by the control plane).</summary>
[GenerateSerializer, Alias("controlplane.AdviceKind")]
public enum AdviceKind
{
    DropUnusedIndex = 0,
    DropDuplicateIndex = 1,
    RebuildInvalidIndex = 2,
    AddMissingIndex = 3,
}

[GenerateSerializer, Immutable, Alias("controlplane.IndexAdvice")]
public sealed record IndexAdvice(
    [property: Id(0)] AdviceKind Kind,
    [property: Id(1)] string Schema,
    [property: Id(2)] string Table,
    [property: Id(3)] string Index,
    [property: Id(4)] string Reason,
    [property: Id(5)] string Command,
    [property: Id(6)] long SizeBytes,
    [property: Id(7)] IReadOnlyList<string> Columns);

/// <summary>A session in a lock chain: who it waits on and which locks it holds or awaits.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.LockedSession")]
public sealed record LockedSession(
    [property: Id(0)] int Pid,
    [property: Id(1)] string User,
    [property: Id(2)] string Database,
    [property: Id(3)] string ApplicationName,
    [property: Id(4)] string State,
    [property: Id(5)] double? TransactionAgeSeconds,
    [property: Id(6)] double? StateAgeSeconds,
    [property: Id(7)] string Query,
    [property: Id(8)] IReadOnlyList<int> BlockedBy,
    [property: Id(9)] IReadOnlyList<string> Locks,
    [property: Id(10)] int Depth);

/// <summary>One root blocker and everyone waiting behind it, depth-first (depth 0 is the blocker).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.LockChain")]
public sealed record LockChain([property: Id(0)] int BlockerPid, [property: Id(1)] IReadOnlyList<LockedSession> Sessions);

[GenerateSerializer, Immutable, Alias("controlplane.TransactionView")]
public sealed record TransactionView(
    [property: Id(0)] int Pid,
    [property: Id(1)] string User,
    [property: Id(2)] string Database,
    [property: Id(3)] string ApplicationName,
    [property: Id(4)] string State,
    [property: Id(5)] double TransactionAgeSeconds,
    [property: Id(6)] double StateAgeSeconds,
    [property: Id(7)] string Query);

[GenerateSerializer, Immutable, Alias("controlplane.SlotView")]
public sealed record SlotView(
    [property: Id(0)] string Name,
    [property: Id(1)] string Type,
    [property: Id(2)] bool Active,
    [property: Id(3)] string? WalStatus,
    [property: Id(4)] long? RetainedBytes);

/// <summary>A table with heavy sequential scans.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TableScanView")]
public sealed record TableScanView(
    [property: Id(0)] string Schema,
    [property: Id(1)] string Table,
    [property: Id(2)] long SeqScans,
    [property: Id(3)] long SeqRowsRead,
    [property: Id(4)] long IndexScans,
    [property: Id(5)] long LiveRows,
    [property: Id(6)] long SizeBytes);

/// <summary>Everything the replica's monitoring knows now: the newest cheap and heavy samples, reduced to views and advice.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.PerfReport")]
public sealed record PerfReport(
    [property: Id(0)] string Replica,
    [property: Id(1)] DateTimeOffset? CheapAt,
    [property: Id(2)] DateTimeOffset? HeavyAt,
    [property: Id(3)] string Database,
    [property: Id(4)] bool StatementsAvailable,
    [property: Id(5)] IReadOnlyList<StatementView> Statements,
    [property: Id(6)] IReadOnlyList<TableScanView> SeqScanTables,
    [property: Id(7)] IReadOnlyList<IndexAdvice> Advice,
    [property: Id(8)] IReadOnlyList<LockChain> LockChains,
    [property: Id(9)] IReadOnlyList<TransactionView> Transactions,
    [property: Id(10)] IReadOnlyList<SlotView> Slots,
    [property: Id(11)] double CacheHitRatio,
    [property: Id(12)] long XidAge,
    [property: Id(13)] string OldestDatabase,
    [property: Id(14)] double CheapSampleMs,
    [property: Id(15)] double HeavySampleMs,
    [property: Id(16)] string Error)
{
    public static PerfReport Empty(string replica) => new(replica, null, null, "", false, [], [], [], [], [], [], 1, 0, "", 0, 0, "");
}

/// <summary>One point of a metric's history: the mean of the readings it stands for, and their extremes.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.MetricPoint")]
public sealed record MetricPoint(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] double Mean,
    [property: Id(2)] double Min,
    [property: Id(3)] double Max,
    [property: Id(4)] int Count);
