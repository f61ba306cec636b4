using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Impact;

/// <summary>A table's size on one target, as the grain reads it from pg_class (the seam for live numbers).</summary>
public sealed record TableSize(long Bytes, long LiveRows);

/// <summary>Looks up sizes on one target; returns null for a table it does not know (new, or not measured).</summary>
public interface ITableSizes
{
    TableSize? Find(TableName table);
}

/// <summary>How long a statement holds its locks, in classes an operator can plan with.</summary>
public enum DurationClass
{
    /// <summary>Catalog only: the lock is held for milliseconds once granted.</summary>
    Instant,
    Seconds,
    Minutes,
    Hours,

    /// <summary>Touches every row of a table whose size is not known.</summary>
    Unknown,
}

/// <summary>
/// Classifies a statement's duration from its impact and the sizes of the tables it touches (pure). A statement that
/// neither rewrites nor scans is catalog-only whatever the size; otherwise the time is taken as proportional to the
/// bytes read, at a deliberately modest rate so the class errs long.
/// </summary>
public static class DurationEstimator
{
    /// <summary>Bytes per second assumed for a scan, rewrite or index build.</summary>
    public const long BytesPerSecond = 50L * 1024 * 1024;

    public static DurationClass Classify(StatementImpact impact, ITableSizes? sizes)
    {
        ArgumentNullException.ThrowIfNull(impact);
        if (!impact.Rewrites && !impact.Scans)
        {
            return DurationClass.Instant;
        }
        if (sizes is null)
        {
            return DurationClass.Unknown;
        }
        long bytes = 0;
        foreach (var table in impact.Locks.Select(l => l.Table).Distinct())
        {
            if (impact.Creates.Any(table.Matches))
            {
                continue;
            }
            if (sizes.Find(table) is not { } size)
            {
                return DurationClass.Unknown;
            }
            bytes += size.Bytes;
        }
        var seconds = bytes / (double)BytesPerSecond;
        return seconds switch
        {
            < 1 => DurationClass.Instant,
            < 60 => DurationClass.Seconds,
            < 3600 => DurationClass.Minutes,
            _ => DurationClass.Hours,
        };
    }
}
