using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Health;

namespace ControlPlane.Grains.Failover;

/// <summary>
/// The report of an old primary's divergent WAL (issue 21 mode 8), kept in its replica's state: the range it wrote
/// past the new primary's fork, where it was saved on its host, and what it held per transaction. LSNs are raw
/// 64-bit positions (<see cref="Lsn"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.DivergenceRecord")]
public sealed record DivergenceRecord(
    [property: Id(0)] string Replica,
    [property: Id(1)] int Timeline,
    [property: Id(2)] ulong StartLsn,
    [property: Id(3)] ulong EndLsn,
    [property: Id(4)] string NewPrimary,
    [property: Id(5)] int NewTimeline,
    [property: Id(6)] long Term,
    [property: Id(7)] DateTimeOffset SavedAt,
    [property: Id(8)] string Directory,
    [property: Id(9)] IReadOnlyList<string> Segments,
    [property: Id(10)] int Records,
    [property: Id(11)] long Bytes,
    [property: Id(12)] int RecordsOutsideTransactions,
    [property: Id(13)] IReadOnlyList<DivergentTransactionRecord> Transactions)
{
    /// <summary>A divergence is the replica's timeline and fork: saving it again (a rejoin redone) replaces, never adds.</summary>
    public bool SameDivergence(DivergenceRecord other) =>
        other is not null && other.Replica == Replica && other.Timeline == Timeline && other.StartLsn == StartLsn;

    public int Committed => Transactions.Count(t => t.Outcome == nameof(DivergentOutcome.Committed));

    /// <summary>The range as PostgreSQL writes LSNs: <c>0/3000060-0/3012F40</c>.</summary>
    public string Range => $"{new Lsn(StartLsn)}-{new Lsn(EndLsn)}";

    public static DivergenceRecord From(DivergentWal wal, long term)
    {
        ArgumentNullException.ThrowIfNull(wal);
        return new(wal.Replica, wal.Timeline, wal.Start.Value, wal.End.Value, wal.NewPrimary, wal.NewTimeline, term, wal.SavedAt,
            wal.Directory, wal.Segments, wal.Records, wal.Bytes, wal.RecordsOutsideTransactions,
            wal.Transactions.Select(t => new DivergentTransactionRecord(t.Xid, t.Outcome.ToString(), t.Records, t.Bytes, t.FirstLsn.Value, t.LastLsn.Value,
                t.Relations.Select(r => new RelationChangesRecord(r.Relation, r.Records)).ToList(), t.EndedAt)).ToList());
    }
}

/// <summary>One transaction of a divergence: xid, Committed/Aborted/Prepared/Unfinished, its records and the relations they touched.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.DivergentTransactionRecord")]
public sealed record DivergentTransactionRecord(
    [property: Id(0)] uint Xid,
    [property: Id(1)] string Outcome,
    [property: Id(2)] int Records,
    [property: Id(3)] long Bytes,
    [property: Id(4)] ulong FirstLsn,
    [property: Id(5)] ulong LastLsn,
    [property: Id(6)] IReadOnlyList<RelationChangesRecord> Relations,
    [property: Id(7)] string? EndedAt);

/// <summary>Records of one transaction on one relation (<c>postgres/public.orders</c>, or <c>rel 1663/5/16384</c> when unnamed).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.RelationChangesRecord")]
public sealed record RelationChangesRecord([property: Id(0)] string Relation, [property: Id(1)] int Records);
