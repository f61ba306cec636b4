using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Impact;

/// <summary>PostgreSQL's table lock modes, weakest first (the order of the conflict table in the manual).</summary>
public enum LockLevel
{
    None,
    AccessShare,
    RowShare,
    RowExclusive,
    ShareUpdateExclusive,
    Share,
    ShareRowExclusive,
    Exclusive,
    AccessExclusive,
}

/// <summary>A lock a statement takes on one relation.</summary>
public sealed record TableLock(TableName Table, LockLevel Level);

/// <summary>
/// What one statement does to the running system: the locks it takes, whether it rewrites a table (copying every
/// row under its lock) or scans one (reading every row under its lock), and the relations it creates.
/// </summary>
public sealed record StatementImpact(
    int StatementIndex,
    SourcePosition Position,
    string Kind,
    IReadOnlyList<TableLock> Locks,
    bool Rewrites,
    bool Scans,
    IReadOnlyList<TableName> Creates)
{
    /// <summary>The strongest lock the statement takes.</summary>
    public LockLevel Lock => Locks.Count == 0 ? LockLevel.None : Locks.Max(l => l.Level);

    /// <summary>Blocks writers of a table it locks (SHARE or stronger).</summary>
    public bool BlocksWrites => Lock >= LockLevel.Share;

    /// <summary>Blocks readers too (ACCESS EXCLUSIVE).</summary>
    public bool BlocksReads => Lock == LockLevel.AccessExclusive;
}

public static class LockLevelText
{
    /// <summary>The mode as PostgreSQL spells it (ACCESS EXCLUSIVE, SHARE UPDATE EXCLUSIVE, …).</summary>
    public static string ToSql(this LockLevel level) => level switch
    {
        LockLevel.None => "none",
        LockLevel.AccessShare => "ACCESS SHARE",
        LockLevel.RowShare => "ROW SHARE",
        LockLevel.RowExclusive => "ROW EXCLUSIVE",
        LockLevel.ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
        LockLevel.Share => "SHARE",
        LockLevel.ShareRowExclusive => "SHARE ROW EXCLUSIVE",
        LockLevel.Exclusive => "EXCLUSIVE",
        LockLevel.AccessExclusive => "ACCESS EXCLUSIVE",
        _ => level.ToString(),
    };

    /// <summary>LOCK TABLE's mode numbers (lockdefs.h) to levels.</summary>
    public static LockLevel FromLockMode(int mode) => mode is >= 1 and <= 8 ? (LockLevel)mode : LockLevel.AccessExclusive;
}
