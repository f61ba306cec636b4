namespace ControlPlane.Grains.Consistency;

/// <summary>How a table was compared (mirrors the Postgres layer's mode).</summary>
[GenerateSerializer, Alias("controlplane.ConsistencyTableMode")]
public enum ConsistencyTableMode { KeyRanges = 0, WholeTable = 1, WholeTableNoPrimaryKey = 2 }

/// <summary>A replica's rows of one table: count and the order-independent 64-bit checksum (hex).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ReplicaTableDigest")]
public sealed record ReplicaTableDigest([property: Id(0)] string Replica, [property: Id(1)] long Rows, [property: Id(2)] string Checksum);

/// <summary>A key range <c>[From, To)</c> (null: unbounded) whose rows differ between the primary and a standby.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ConsistencyMismatch")]
public sealed record ConsistencyMismatch(
    [property: Id(0)] string Replica,
    [property: Id(1)] string Range,
    [property: Id(2)] long? From,
    [property: Id(3)] long? To,
    [property: Id(4)] long PrimaryRows,
    [property: Id(5)] long ReplicaRows);

[GenerateSerializer, Immutable, Alias("controlplane.TableConsistency")]
public sealed record TableConsistency(
    [property: Id(0)] string Table,
    [property: Id(1)] ConsistencyTableMode Mode,
    [property: Id(2)] int Chunks,
    [property: Id(3)] ReplicaTableDigest Primary,
    [property: Id(4)] IReadOnlyList<ReplicaTableDigest> Standbys,
    [property: Id(5)] IReadOnlyList<ConsistencyMismatch> Mismatches,
    [property: Id(6)] string Warning)
{
    public bool Consistent => Mismatches.Count == 0;
}

/// <summary>A standby's part in a check: the LSN its snapshot was taken at, or why it took no part.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.StandbyConsistency")]
public sealed record StandbyConsistency([property: Id(0)] string Replica, [property: Id(1)] string ReplayLsn, [property: Id(2)] string Error);

/// <summary>A cross-tier pair's two values.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.PairConsistency")]
public sealed record PairConsistency(
    [property: Id(0)] string Name,
    [property: Id(1)] string LeftTier,
    [property: Id(2)] string Left,
    [property: Id(3)] string RightTier,
    [property: Id(4)] string Right,
    [property: Id(5)] string Error)
{
    public bool Equal => Error.Length == 0 && Left == Right;
}

/// <summary>
/// One consistency check of a tier. Consistent: every compared table matched on every standby that took part, every
/// standby took part, and every pair agreed.
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.ConsistencyReport")]
public sealed record ConsistencyReport(
    [property: Id(0)] string Environment,
    [property: Id(1)] string Tier,
    [property: Id(2)] DateTimeOffset CheckedAt,
    [property: Id(3)] TimeSpan Duration,
    [property: Id(4)] string Primary,
    [property: Id(5)] string Lsn,
    [property: Id(6)] IReadOnlyList<StandbyConsistency> Standbys,
    [property: Id(7)] IReadOnlyList<TableConsistency> Tables,
    [property: Id(8)] IReadOnlyList<PairConsistency> Pairs,
    [property: Id(9)] long RowsCompared,
    [property: Id(10)] bool Scheduled)
{
    public bool Consistent => Tables.All(t => t.Consistent) && Standbys.All(s => s.Error.Length == 0) && Pairs.All(p => p.Equal);

    public IReadOnlyList<string> Warnings => Tables.Where(t => t.Warning.Length > 0).Select(t => t.Warning).ToList();
}
