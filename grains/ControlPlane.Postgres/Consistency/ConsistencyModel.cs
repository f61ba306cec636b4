using ControlPlane.Postgres.Fleet;

namespace ControlPlane.Postgres.Consistency;

/// <summary>How a comparison runs.</summary>
/// <param name="ReplayTimeout">How long each standby may take to replay up to the check's LSN.</param>
/// <param name="LockTimeout">How long taking the SHARE locks may take in all (writers wait only while they are held).</param>
/// <param name="RowsPerChunk">About how many rows one key-range chunk holds.</param>
/// <param name="NarrowParts">Into how many ranges a differing chunk is cut at each narrowing step.</param>
/// <param name="MaxRangesPerTable">At most this many differing ranges are narrowed and reported per table and replica.</param>
/// <param name="CommandTimeoutSeconds">Timeout of one digest query (a chunk, or a whole table without a key).</param>
public sealed record ComparisonOptions(
    TimeSpan ReplayTimeout,
    TimeSpan LockTimeout,
    int RowsPerChunk = 100_000,
    int NarrowParts = 8,
    int MaxRangesPerTable = 20,
    int CommandTimeoutSeconds = 600);

/// <summary>A table as the primary's catalog describes it.</summary>
/// <param name="Name">Schema-qualified, quoted as PostgreSQL quotes identifiers.</param>
/// <param name="Key">The leading primary-key column (quoted) when it is an integer: the table is compared in key ranges.</param>
internal sealed record TableShape(string Name, string Schema, string Relation, string? Key, bool HasPrimaryKey, long EstimatedRows)
{
    public string Display => $"{Schema}.{Relation}";
}

/// <summary>How a table was compared.</summary>
public enum TableMode
{
    /// <summary>In ranges of the integer leading primary-key column.</summary>
    KeyRanges,
    /// <summary>As one digest: the primary key does not start with an integer column.</summary>
    WholeTable,
    /// <summary>As one digest, with a warning: the table has no primary key, so a difference cannot be narrowed.</summary>
    WholeTableNoPrimaryKey,
}

public sealed record ReplicaDigest(string Replica, RowDigest Digest);

/// <summary>A key range whose rows differ between the primary and <paramref name="Replica"/>.</summary>
public sealed record RangeDifference(string Replica, KeyRange Range, RowDigest Primary, RowDigest OnReplica);

/// <summary>One table compared across the replicas that took part.</summary>
public sealed record TableCheck(
    string Table,
    TableMode Mode,
    int Chunks,
    RowDigest Primary,
    IReadOnlyList<ReplicaDigest> Standbys,
    IReadOnlyList<RangeDifference> Differences,
    string Warning)
{
    public bool Consistent => Differences.Count == 0;
}

/// <summary>Whether a standby reached the check's LSN; an Error keeps it out of the comparison (named in the result).</summary>
public sealed record StandbyReplay(string Replica, string? ReplayLsn, string Error);

/// <summary>What one comparison found, at the primary's WAL location <paramref name="Lsn"/>.</summary>
public sealed record ReplicaComparison(string Lsn, IReadOnlyList<StandbyReplay> Standbys, IReadOnlyList<TableCheck> Tables, long RowsCompared);

/// <summary>A replica taking part: its name in the tier and how to reach it.</summary>
public sealed record ComparedReplica(string Name, ReplicaEndpoint Endpoint);
