using System.Globalization;

namespace ControlPlane.Postgres.Consistency;

/// <summary>
/// A half-open range of a table's leading primary-key column, <c>[From, To)</c>; a null bound is unbounded, so the
/// first and last chunk of a plan also catch keys outside the primary's min..max (a replica's stray row lands in them).
/// </summary>
public sealed record KeyRange(long? From, long? To)
{
    public static readonly KeyRange All = new(null, null);

    public bool Contains(long key) => (From is not { } f || key >= f) && (To is not { } t || key < t);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"[{(From is { } f ? f.ToString(CultureInfo.InvariantCulture) : "-inf")}, {(To is { } t ? t.ToString(CultureInfo.InvariantCulture) : "+inf")})");
}

/// <summary>
/// The order-independent digest of a set of rows: how many, and the sum modulo 2^64 of a 64-bit hash of each row's
/// text form. Addition commutes, so the digest of a table is the same whatever order a replica's scan returns its
/// rows in, and the digest of a table is the combination of the digests of its chunks.
/// </summary>
public readonly record struct RowDigest(long Rows, ulong Sum)
{
    public static readonly RowDigest Empty = new(0, 0);

    public static RowDigest Of(IEnumerable<long> rowHashes)
    {
        ArgumentNullException.ThrowIfNull(rowHashes);
        var digest = Empty;
        foreach (var h in rowHashes) digest = digest.Add(h);
        return digest;
    }

    public RowDigest Add(long rowHash) => new(Rows + 1, unchecked(Sum + (ulong)rowHash));

    public RowDigest Combine(RowDigest other) => new(Rows + other.Rows, unchecked(Sum + other.Sum));

    public static RowDigest Combine(IEnumerable<RowDigest> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        return parts.Aggregate(Empty, (a, b) => a.Combine(b));
    }

    /// <summary>PostgreSQL's <c>sum(bigint)</c> (a numeric, possibly negative and wider than 64 bits) reduced modulo 2^64.</summary>
    public static ulong ReduceSum(string numericText)
    {
        var value = System.Numerics.BigInteger.Parse(numericText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        var modulus = System.Numerics.BigInteger.One << 64;
        var reduced = ((value % modulus) + modulus) % modulus;
        return (ulong)reduced;
    }

    public string Hex => Sum.ToString("x16", CultureInfo.InvariantCulture);
}

/// <summary>
/// Pure planning of a chunked comparison: how a table's key space is cut into chunks of about the wanted number of
/// rows, and how a chunk that differs is cut again to narrow the difference down to small key ranges.
/// </summary>
public static class ChunkPlan
{
    /// <summary>A table is never cut into more chunks than this, however small the wanted chunk.</summary>
    public const int MaxChunks = 10_000;

    /// <summary>
    /// Chunks covering every key: about <paramref name="estimatedRows"/> / <paramref name="rowsPerChunk"/> ranges of
    /// equal key width between <paramref name="min"/> and <paramref name="max"/> (keys are assumed spread evenly; a
    /// skewed table gets uneven chunks, which costs time, not correctness), the first open below, the last open above.
    /// </summary>
    public static IReadOnlyList<KeyRange> Plan(long min, long max, long estimatedRows, int rowsPerChunk)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, min);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rowsPerChunk);
        var span = (Int128)max - min + 1;
        var wanted = Math.Max(1, (estimatedRows + rowsPerChunk - 1) / rowsPerChunk);
        var count = (long)Int128.Min(Int128.Min(wanted, MaxChunks), span);
        return Cut(null, null, min, span, count);
    }

    /// <summary>
    /// <paramref name="range"/> cut into at most <paramref name="parts"/> ranges that together cover exactly it; the
    /// key space actually used is <paramref name="min"/>..<paramref name="max"/> (an unbounded end keeps its open side).
    /// </summary>
    public static IReadOnlyList<KeyRange> Split(KeyRange range, long min, long max, int parts)
    {
        ArgumentNullException.ThrowIfNull(range);
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 2);
        var (lo, hi) = Bounds(range, min, max);
        if (hi - lo <= 1) return [range];
        return Cut(range.From, range.To, (long)lo, hi - lo, (long)Int128.Min(parts, hi - lo));
    }

    /// <summary>Whether <paramref name="range"/> holds more than one key of <paramref name="min"/>..<paramref name="max"/>, so splitting it narrows anything.</summary>
    public static bool CanSplit(KeyRange range, long min, long max)
    {
        ArgumentNullException.ThrowIfNull(range);
        var (lo, hi) = Bounds(range, min, max);
        return hi - lo > 1;
    }

    private static (Int128 Lo, Int128 Hi) Bounds(KeyRange range, long min, long max)
    {
        Int128 lo = range.From ?? Math.Min(min, range.To ?? min);
        Int128 hi = range.To ?? (Int128)Math.Max(max, range.From ?? max) + 1;
        return (lo, Int128.Max(lo, hi));
    }

    /// <summary><paramref name="count"/> ranges of equal width from <paramref name="start"/> over <paramref name="span"/> keys; the outer bounds are <paramref name="from"/> and <paramref name="to"/>.</summary>
    private static List<KeyRange> Cut(long? from, long? to, long start, Int128 span, long count)
    {
        var width = (span + count - 1) / count;
        var ranges = new List<KeyRange>((int)count);
        var lower = from;
        for (var i = 1; i < count; i++)
        {
            var upper = (Int128)start + width * i;
            if (upper >= (Int128)start + span) break;
            ranges.Add(new KeyRange(lower, (long)upper));
            lower = (long)upper;
        }
        ranges.Add(new KeyRange(lower, to));
        return ranges;
    }
}
