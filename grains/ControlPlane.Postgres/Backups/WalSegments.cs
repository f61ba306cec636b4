using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Health;

namespace ControlPlane.Postgres.Backups;

public enum WalFileKind
{
    /// <summary>A complete segment: <c>TTTTTTTTXXXXXXXXYYYYYYYY</c>.</summary>
    Segment = 0,
    /// <summary>The segment pg_receivewal is still writing (or left unfinished at a timeline switch): <c>….partial</c>.</summary>
    Partial = 1,
    /// <summary>A timeline history file: <c>TTTTTTTT.history</c> (its <see cref="WalFile.Segment"/> is 0).</summary>
    History = 2,
}

/// <summary>One file of a WAL archive directory, named as PostgreSQL and pg_receivewal name them.</summary>
public sealed record WalFile(string Name, WalFileKind Kind, int Timeline, ulong Segment);

/// <summary>What following a server means for the archive's files: the ones to move aside, or why not to follow at all.</summary>
/// <param name="MoveAside">Files of older timelines holding WAL past the point where the server's history left that timeline.</param>
/// <param name="Refusal">Set when the archive is ahead of the server's history (the server is behind it: a stale primary?).</param>
/// <param name="ResumeMarker">An empty <c>.partial</c> to create after the moves, so that pg_receivewal resumes at the
/// start of the fork's segment (see <see cref="WalSegments.PlanDivergence"/>); null when the remaining files do that.</param>
public sealed record DivergencePlan(IReadOnlyList<WalFile> MoveAside, string? Refusal, string? ResumeMarker = null);

/// <summary>
/// Segment-name arithmetic (pure). A segment number is an LSN divided by the segment size; its file name is the
/// timeline, then the segment number split into "log" and "seg" parts of 8 hex digits each.
/// </summary>
public static class WalSegments
{
    public const long DefaultSegmentBytes = 16L * 1024 * 1024;

    private const int HexDigits = 8;
    private const string PartialSuffix = ".partial";
    private const string HistorySuffix = ".history";

    /// <summary>Parses a segment, <c>.partial</c> or history file name; false for anything else (temp files, directories).</summary>
    public static bool TryParse(string fileName, long segmentBytes, [NotNullWhen(true)] out WalFile? file)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        var perLog = SegmentsPerLog(segmentBytes);
        file = null;
        if (fileName.Length == HexDigits + HistorySuffix.Length && fileName.EndsWith(HistorySuffix, StringComparison.Ordinal))
        {
            if (!TryHex(fileName.AsSpan(0, HexDigits), out var historyTimeline) || historyTimeline == 0) return false;
            file = new WalFile(fileName, WalFileKind.History, (int)historyTimeline, 0);
            return true;
        }
        var kind = fileName.Length == 3 * HexDigits ? WalFileKind.Segment
            : fileName.Length == 3 * HexDigits + PartialSuffix.Length && fileName.EndsWith(PartialSuffix, StringComparison.Ordinal) ? WalFileKind.Partial
            : (WalFileKind?)null;
        if (kind is null
            || !TryHex(fileName.AsSpan(0, HexDigits), out var timeline) || timeline == 0 || timeline > int.MaxValue
            || !TryHex(fileName.AsSpan(HexDigits, HexDigits), out var log)
            || !TryHex(fileName.AsSpan(2 * HexDigits, HexDigits), out var seg) || seg >= perLog)
        {
            return false;
        }
        file = new WalFile(fileName, kind.Value, (int)timeline, log * perLog + seg);
        return true;
    }

    /// <summary>The complete-segment file name of <paramref name="segment"/> on <paramref name="timeline"/>.</summary>
    public static string FileName(int timeline, ulong segment, long segmentBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeline);
        var perLog = SegmentsPerLog(segmentBytes);
        if (segment / perLog > uint.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(segment), segment, "The segment lies past the end of the 64-bit WAL address space.");
        }
        return string.Create(CultureInfo.InvariantCulture, $"{timeline:X8}{segment / perLog:X8}{segment % perLog:X8}");
    }

    /// <summary>The segment holding <paramref name="lsn"/>.</summary>
    public static ulong SegmentOf(ulong lsn, long segmentBytes) => lsn / (ulong)Checked(segmentBytes);

    /// <summary>The LSN where <paramref name="segment"/> begins.</summary>
    public static ulong StartOf(ulong segment, long segmentBytes) => segment * (ulong)Checked(segmentBytes);

    /// <summary>
    /// True when the file holds WAL past <paramref name="forkPoint"/>, the point where its timeline ended in the
    /// followed server's history: it lies wholly past the fork, or it is the segment containing it. Such a file of
    /// an older timeline is the old primary's WAL that the new server never had. It is never needed to restore the
    /// new history: recovery reads the segment containing the fork from the new timeline's file, which copies the
    /// old one up to the fork. And left in place it makes pg_receivewal ask for the segment after it on the old
    /// timeline, which the server refuses ("not in this server's history").
    /// </summary>
    public static bool HoldsWalPast(WalFile file, Lsn forkPoint, long segmentBytes)
    {
        ArgumentNullException.ThrowIfNull(file);
        return file.Kind != WalFileKind.History && StartOf(file.Segment + 1, segmentBytes) > forkPoint.Value;
    }

    /// <summary>
    /// Which archived files must move aside before streaming from a server on <paramref name="server"/>'s timeline:
    /// files of older timelines holding WAL past where the server's history left them (<see cref="HoldsWalPast"/>),
    /// and every file of an older timeline that is not in the server's history at all (a branch it never followed).
    /// One exception: the .partial of the segment holding a fork stays once the archive holds a later timeline of
    /// the server's history from that segment on, because then pg_receivewal wrote it itself when it crossed the
    /// switch (it ends at the fork), and restarts go on from the later timeline. WAL of a timeline newer than the
    /// server's is a refusal, not a move: that server is behind the archive, and following it would push the newer
    /// history aside. History files always stay.
    /// <para>pg_receivewal resumes after the newest file it finds and, finding none, at the server's current position.
    /// When the moves take away the segment holding a fork and nothing remains at or past it, the plan names an
    /// empty .partial of that segment on the old timeline as <see cref="DivergencePlan.ResumeMarker"/>: streaming
    /// then restarts at the beginning of that segment (the server sends the old timeline up to the fork, then the new
    /// one), instead of skipping whatever the server wrote between the fork and now.</para>
    /// </summary>
    public static DivergencePlan PlanDivergence(IEnumerable<string> fileNames, SourceTimeline server, long segmentBytes)
    {
        ArgumentNullException.ThrowIfNull(fileNames);
        ArgumentNullException.ThrowIfNull(server);
        var forks = server.History.ToDictionary(e => e.Timeline, e => e.SwitchPoint);
        var files = fileNames.Select(n => TryParse(n, segmentBytes, out var f) ? f : null).OfType<WalFile>()
            .Where(f => f.Kind != WalFileKind.History).ToList();
        if (files.FirstOrDefault(f => f.Timeline > server.Timeline) is { } ahead)
        {
            return new DivergencePlan([], string.Create(CultureInfo.InvariantCulture,
                $"the archive holds '{ahead.Name}' of timeline {ahead.Timeline}, newer than the server's timeline {server.Timeline}; refusing to follow a server that is behind the archive"));
        }
        var lineage = files.Where(f => f.Timeline == server.Timeline || forks.ContainsKey(f.Timeline)).ToList();
        var moves = files.Where(f => f.Timeline < server.Timeline
                && (!forks.TryGetValue(f.Timeline, out var fork)
                    || (HoldsWalPast(f, fork, segmentBytes) && !ClosedAtSwitch(f, fork, lineage, segmentBytes))))
            .OrderBy(f => f.Timeline).ThenBy(f => f.Segment).ToList();
        var resume = moves
            .Where(f => forks.TryGetValue(f.Timeline, out var fork) && f.Segment == SegmentOf(fork.Value, segmentBytes))
            .OrderByDescending(f => f.Segment).ThenByDescending(f => f.Timeline).FirstOrDefault();
        var remaining = lineage.Except(moves).ToList();
        // On the timeline that goes on from the segment's start: a fork exactly there (a promotion right after a
        // segment switch) leaves nothing of the old timeline in that segment to ask for (see AtSwitchMarker).
        var marker = resume is not null && !remaining.Any(f => f.Segment >= resume.Segment)
            ? FileName(ContinuingTimeline(resume.Timeline, StartOf(resume.Segment, segmentBytes), server), resume.Segment, segmentBytes) + PartialSuffix
            : null;
        return new DivergencePlan(moves, null, marker ?? AtSwitchMarker(remaining, server, segmentBytes));
    }

    /// <summary>
    /// When the archive ends exactly where its timeline ended in the server's history (a promotion right after a
    /// segment switch: the fork lies on a segment boundary and the last complete segment ends there), pg_receivewal
    /// would ask for the old timeline at its very end, which the server answers with the next timeline instead of a
    /// stream; pg_receivewal takes that for an error and fails at every retry. An empty .partial of the same segment on
    /// the timeline that continues from there makes it start on that timeline instead. Null when no such case.
    /// </summary>
    private static string? AtSwitchMarker(IReadOnlyList<WalFile> remaining, SourceTimeline server, long segmentBytes)
    {
        if (WalGaps.ResumeFile(remaining) is not { } last) return null;
        var at = WalGaps.ResumeLsn(last, segmentBytes);
        var timeline = ContinuingTimeline(last.Timeline, at, server);
        return timeline == last.Timeline ? null : FileName(timeline, SegmentOf(at, segmentBytes), segmentBytes) + PartialSuffix;
    }

    /// <summary>
    /// The timeline of the server's history that WAL at <paramref name="at"/> continues on, starting from
    /// <paramref name="timeline"/>: every timeline that ended at or before it is passed over.
    /// </summary>
    private static int ContinuingTimeline(int timeline, ulong at, SourceTimeline server)
    {
        var order = server.History.OrderBy(e => e.Timeline).ToList();
        while (timeline < server.Timeline && order.FirstOrDefault(e => e.Timeline == timeline) is { } ended && ended.SwitchPoint.Value <= at)
        {
            timeline = order.FirstOrDefault(e => e.Timeline > timeline)?.Timeline ?? server.Timeline;
        }
        return timeline;
    }

    private static bool ClosedAtSwitch(WalFile file, Lsn fork, IReadOnlyList<WalFile> lineage, long segmentBytes) =>
        file.Kind == WalFileKind.Partial
        && SegmentOf(fork.Value, segmentBytes) == file.Segment
        && lineage.Any(f => f.Timeline > file.Timeline && f.Segment >= file.Segment);

    private static ulong SegmentsPerLog(long segmentBytes) => 0x1_0000_0000UL / (ulong)Checked(segmentBytes);

    private static long Checked(long segmentBytes)
    {
        // PostgreSQL allows powers of two from 1 MB to 1 GB (initdb --wal-segsize).
        if (segmentBytes < 1L << 20 || segmentBytes > 1L << 30 || (segmentBytes & (segmentBytes - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(segmentBytes), segmentBytes, "A WAL segment size is a power of two from 1 MB to 1 GB.");
        }
        return segmentBytes;
    }

    private static bool TryHex(ReadOnlySpan<char> digits, out ulong value)
    {
        value = 0;
        // PostgreSQL writes upper-case hex; anything else is not one of its files.
        foreach (var c in digits)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'A' and <= 'F'))) return false;
        }
        return ulong.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }
}
