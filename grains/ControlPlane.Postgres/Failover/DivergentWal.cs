using System.Globalization;
using System.Text.RegularExpressions;
using ControlPlane.Postgres.Health;

namespace ControlPlane.Postgres.Failover;

/// <summary>Where an old primary's WAL left the new primary's history: its <paramref name="Timeline"/> forked at <paramref name="SwitchPoint"/>.</summary>
public sealed record DivergenceFork(int Timeline, Lsn SwitchPoint);

/// <summary>What became of a transaction in the divergent WAL.</summary>
public enum DivergentOutcome
{
    /// <summary>Its commit record is in the divergent WAL: its client was told it committed; the new primary never got it.</summary>
    Committed,
    /// <summary>Rolled back on the old primary: nothing lost.</summary>
    Aborted,
    /// <summary>Prepared (two-phase) and neither committed nor rolled back there.</summary>
    Prepared,
    /// <summary>No commit or abort record before the WAL ends: it was still running when the old primary died.</summary>
    Unfinished,
}

/// <summary>How many records of one transaction touched one relation (its name, or <c>rel spc/db/filenode</c> when the new primary does not know it).</summary>
public sealed record RelationChanges(string Relation, int Records);

/// <summary>One transaction's records in the divergent WAL (its subtransactions folded in).</summary>
/// <param name="EndedAt">The commit or abort time as the record gives it, when there is one.</param>
public sealed record DivergentTransaction(uint Xid, DivergentOutcome Outcome, int Records, long Bytes, Lsn FirstLsn, Lsn LastLsn,
    IReadOnlyList<RelationChanges> Relations, string? EndedAt);

/// <summary>
/// The WAL an old primary wrote past the point where the new primary's timeline forked off its own: saved to
/// <paramref name="Directory"/> (the segment files <paramref name="Segments"/>, pg_waldump's decoding and a
/// report.json) before it is rewound or rebuilt.
/// </summary>
/// <param name="Start">The fork (switch point): the first divergent byte.</param>
/// <param name="End">The end of the last divergent record.</param>
public sealed record DivergentWal(
    string Replica, int Timeline, Lsn Start, Lsn End, string NewPrimary, int NewTimeline, string Directory, IReadOnlyList<string> Segments,
    int Records, long Bytes, int RecordsOutsideTransactions, IReadOnlyList<DivergentTransaction> Transactions, DateTimeOffset SavedAt)
{
    public int Committed => Transactions.Count(t => t.Outcome == DivergentOutcome.Committed);

    /// <summary>One line for logs and alerts: the range and what it held.</summary>
    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"{Start}-{End} on timeline {Timeline} ({Bytes} bytes, {Records} records, {Transactions.Count} transactions of which {Committed} committed)");
}

/// <summary>
/// The pure part of saving an old primary's divergent WAL: where it forked, which segment files cover it, and the
/// per-transaction summary of pg_waldump's records. Unit-tested.
/// </summary>
public static partial class DivergencePlanner
{
    private const int SegmentNameLength = 24;

    [GeneratedRegex(@"subxacts: (?<ids>\d+(?: \d+)*)", RegexOptions.CultureInvariant)]
    private static partial Regex Subtransactions();

    /// <summary>
    /// The timeline the old primary last wrote on: the highest among its WAL segment file names (it names recycled
    /// segments after its current timeline too). Its control file may still name an older one: a promotion does not
    /// wait for its checkpoint.
    /// </summary>
    public static int? LatestTimeline(IEnumerable<string> walFileNames)
    {
        ArgumentNullException.ThrowIfNull(walFileNames);
        int? latest = null;
        foreach (var name in walFileNames)
        {
            if (name.Length != SegmentNameLength || !name.All(char.IsAsciiHexDigit)) continue;
            var tli = int.Parse(name.AsSpan(0, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            if (tli > 0 && (latest is null || tli > latest)) latest = tli;
        }
        return latest;
    }

    /// <summary>
    /// Where the old primary's timeline <paramref name="oldTimeline"/> left the new primary's history; null (with the
    /// reason) when it did not: the same timeline (nothing forked), or one the new primary's history does not hold.
    /// </summary>
    public static (DivergenceFork? Fork, string Reason) Fork(int oldTimeline, SourceTimeline source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (oldTimeline == source.Timeline)
        {
            return (null, $"it is on timeline {oldTimeline}, the new primary's own: no fork to compare with");
        }
        var left = source.History.LastOrDefault(e => e.Timeline == oldTimeline);
        return left is null
            ? (null, $"its timeline {oldTimeline} is not in the history of the new primary's timeline {source.Timeline}: where it diverged is unknown")
            : (new DivergenceFork(oldTimeline, left.SwitchPoint), $"timeline {oldTimeline} forked at {left.SwitchPoint}");
    }

    /// <summary>The WAL segment file name holding <paramref name="lsn"/> on <paramref name="timeline"/>, as PostgreSQL names it.</summary>
    public static string SegmentName(int timeline, Lsn lsn, long segmentBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeline);
        if (segmentBytes <= 0 || (segmentBytes & (segmentBytes - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(segmentBytes), segmentBytes, "a WAL segment size is a power of two");
        }
        var segment = lsn.Value / (ulong)segmentBytes;
        var perId = 0x1_0000_0000UL / (ulong)segmentBytes;
        return string.Create(CultureInfo.InvariantCulture, $"{timeline:X8}{segment / perId:X8}{segment % perId:X8}");
    }

    /// <summary>The segment files covering [<paramref name="start"/>, <paramref name="end"/>) on <paramref name="timeline"/>, in order.</summary>
    public static IReadOnlyList<string> Segments(int timeline, Lsn start, Lsn end, long segmentBytes)
    {
        if (end <= start) return [];
        var size = (ulong)segmentBytes;
        var names = new List<string>();
        for (var at = start.Value / size * size; at < end.Value; at += size)
        {
            names.Add(SegmentName(timeline, new Lsn(at), segmentBytes));
        }
        return names;
    }

    /// <summary>The saved range's directory name: replica, timeline and fork, so a second save of the same divergence finds the first.</summary>
    public static string DirectoryName(string replica, DivergenceFork fork)
    {
        ArgumentException.ThrowIfNullOrEmpty(replica);
        ArgumentNullException.ThrowIfNull(fork);
        return string.Create(CultureInfo.InvariantCulture, $"{replica}-tl{fork.Timeline}-{fork.SwitchPoint.ToString().Replace('/', '-')}");
    }

    /// <summary>
    /// Groups the records from the fork on by transaction (subtransactions under their top-level transaction, as the
    /// commit or abort record lists them), with their outcome, size and the relations they touched, named by
    /// <paramref name="names"/> where the new primary knows the file. Records outside any transaction (xid 0:
    /// checkpoints, WAL switches, full-page images of hint bits) only count towards the totals.
    /// </summary>
    public static (IReadOnlyList<DivergentTransaction> Transactions, int OutsideTransactions) Summarise(
        IReadOnlyList<WalRecord> records, IReadOnlyDictionary<RelFileNode, string> names)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(names);
        var topOf = new Dictionary<uint, uint>();
        foreach (var r in records.Where(r => r.ResourceManager == "Transaction"))
        {
            var subs = Subtransactions().Match(r.Description);
            if (!subs.Success) continue;
            foreach (var id in subs.Groups["ids"].Value.Split(' '))
            {
                topOf[uint.Parse(id, NumberStyles.None, CultureInfo.InvariantCulture)] = r.Xid;
            }
        }
        var transactions = new List<DivergentTransaction>();
        foreach (var group in records.Where(r => r.Xid != 0).GroupBy(r => topOf.GetValueOrDefault(r.Xid, r.Xid)))
        {
            var list = group.ToList();
            var (outcome, endedAt) = Outcome(list.Where(r => r.ResourceManager == "Transaction" && r.Xid == group.Key));
            var relations = list.SelectMany(r => r.Relations)
                .GroupBy(n => names.TryGetValue(n, out var name) ? name : $"rel {n}")
                .Select(g => new RelationChanges(g.Key, g.Count()))
                .OrderByDescending(c => c.Records).ThenBy(c => c.Relation, StringComparer.Ordinal)
                .ToList();
            transactions.Add(new DivergentTransaction(group.Key, outcome, list.Count, list.Sum(r => (long)r.Length),
                list[0].Lsn, list[^1].Lsn, relations, endedAt));
        }
        return (transactions, records.Count(r => r.Xid == 0));
    }

    private static (DivergentOutcome, string?) Outcome(IEnumerable<WalRecord> transactionRecords)
    {
        var outcome = (DivergentOutcome.Unfinished, (string?)null);
        foreach (var r in transactionRecords)
        {
            var verb = r.Description.Split(' ', 2)[0];
            var rest = r.Description.Length > verb.Length ? r.Description[(verb.Length + 1)..] : "";
            var at = rest.Split(';', 2)[0].Trim();
            outcome = verb switch
            {
                "COMMIT" or "COMMIT_PREPARED" => (DivergentOutcome.Committed, at.Length > 0 ? at : null),
                "ABORT" or "ABORT_PREPARED" => (DivergentOutcome.Aborted, at.Length > 0 ? at : null),
                "PREPARE" => (DivergentOutcome.Prepared, null),
                _ => outcome,
            };
        }
        return outcome;
    }
}
