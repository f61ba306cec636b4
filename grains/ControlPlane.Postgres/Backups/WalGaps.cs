using System.Globalization;
using System.Text.Json;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// WAL the archive never received and no server still has: from <see cref="FromLsn"/> (where the archive's own WAL
/// ended) to <see cref="ToLsn"/> (where it resumed, the start of the oldest segment the server still held). Recovery
/// cannot replay across it, so a base backup that ended before <see cref="FromLsn"/> restores no further than that.
/// </summary>
/// <param name="LastArchivedAt">When the archive last wrote WAL before the gap: no restore target after it is reachable
/// from an older backup (the newest moment the missing WAL could have been written is unknown, only later).</param>
public sealed record WalGap(int Timeline, ulong FromLsn, ulong ToLsn, DateTimeOffset LastArchivedAt, DateTimeOffset RecordedAt, string Server)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"WAL from {new Lsn(FromLsn)} to {new Lsn(ToLsn)} (timeline {Timeline}, last archived {LastArchivedAt:O}) was removed by {Server} before the archive received it");
}

/// <summary>How the archive resumes after a gap: the gap to record first, then the empty .partial that makes
/// pg_receivewal start at the oldest segment the server still holds.</summary>
public sealed record WalGapPlan(WalGap Gap, string ResumeMarker);

/// <summary>
/// The archive's answer to "the server already removed the WAL I need next" (pure): instead of asking forever for a
/// segment that is gone, it records the gap and resumes at the oldest WAL the server still guarantees (the restart
/// point of the archiver's slot, reserved at once), so everything written from then on is archived again.
/// </summary>
public static class WalGaps
{
    /// <summary>True when pg_receivewal ended because the server no longer has the WAL it asked for.</summary>
    public static bool IsRemovedWal(string? failure) =>
        failure is not null
        && (failure.Contains("has already been removed", StringComparison.Ordinal)
            || failure.Contains("replication slot that has been invalidated", StringComparison.Ordinal)
            || failure.Contains("replication slot was invalidated", StringComparison.Ordinal));

    /// <summary>Where pg_receivewal resumes in <paramref name="files"/>: after the newest complete segment, or at the
    /// start of the newest .partial; null for an archive without WAL (it then starts where the slot says).</summary>
    public static WalFile? ResumeFile(IEnumerable<WalFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        return files.Where(f => f.Kind != WalFileKind.History)
            .OrderByDescending(f => f.Segment).ThenByDescending(f => f.Timeline).ThenBy(f => f.Kind).FirstOrDefault();
    }

    public static ulong ResumeLsn(WalFile file, long segmentBytes)
    {
        ArgumentNullException.ThrowIfNull(file);
        return WalSegments.StartOf(file.Kind == WalFileKind.Partial ? file.Segment : file.Segment + 1, segmentBytes);
    }

    /// <summary>
    /// The gap between the archive (<paramref name="fileNames"/>, the newest written at <paramref name="lastArchivedAt"/>)
    /// and <paramref name="oldestAvailable"/>, the oldest WAL <paramref name="server"/> still has; null when the archive
    /// is empty or already reaches it (then nothing is missing and nothing needs to move).
    /// </summary>
    public static WalGapPlan? Plan(IEnumerable<string> fileNames, SourceTimeline server, string serverName, Lsn oldestAvailable,
        DateTimeOffset lastArchivedAt, DateTimeOffset now, long segmentBytes)
    {
        ArgumentNullException.ThrowIfNull(fileNames);
        ArgumentNullException.ThrowIfNull(server);
        var files = fileNames.Select(n => WalSegments.TryParse(n, segmentBytes, out var f) ? f : null).OfType<WalFile>().ToList();
        if (ResumeFile(files) is not { } newest) return null;
        var from = ResumeLsn(newest, segmentBytes);
        var segment = WalSegments.SegmentOf(oldestAvailable.Value, segmentBytes);
        var to = WalSegments.StartOf(segment, segmentBytes);
        if (from >= to) return null;
        var timeline = TimelineOf(server, oldestAvailable);
        var marker = WalSegments.FileName(timeline, segment, segmentBytes) + ".partial";
        return new WalGapPlan(new WalGap(timeline, from, to, lastArchivedAt, now, serverName), marker);
    }

    /// <summary>The timeline of <paramref name="server"/>'s history that <paramref name="lsn"/> lies on.</summary>
    public static int TimelineOf(SourceTimeline server, Lsn lsn)
    {
        ArgumentNullException.ThrowIfNull(server);
        return server.History.Where(e => e.Timeline < server.Timeline && lsn.Value < e.SwitchPoint.Value)
            .Select(e => e.Timeline).DefaultIfEmpty(server.Timeline).Min();
    }

    /// <summary>The gaps a restore from a base backup that ended at <paramref name="stopLsn"/> has to cross to reach
    /// past <paramref name="stopLsn"/>: those that end after it.</summary>
    public static IReadOnlyList<WalGap> After(IEnumerable<WalGap> gaps, ulong stopLsn)
    {
        ArgumentNullException.ThrowIfNull(gaps);
        return gaps.Where(g => g.ToLsn > stopLsn).OrderBy(g => g.FromLsn).ToList();
    }
}

/// <summary>
/// The gaps of one repository's WAL archive, kept beside it (<c>wal-gaps.json</c>, replaced atomically) so that a
/// restore, a later silo and an auditor all see them. Written before the archive resumes past a gap.
/// </summary>
public static class WalGapLog
{
    public const string FileName = "wal-gaps.json";

    public static string PathOf(TierRepository repository)
    {
        ArgumentNullException.ThrowIfNull(repository);
        return Path.Combine(repository.TierDirectory, FileName);
    }

    public static IReadOnlyList<WalGap> Read(TierRepository repository)
    {
        var path = PathOf(repository);
        if (!File.Exists(path)) return [];
        try
        {
            return JsonSerializer.Deserialize<List<WalGap>>(File.ReadAllText(path)) ?? [];
        }
        catch (JsonException ex)
        {
            // Never read as "no gaps": a restore would then cross a hole it cannot see.
            throw new InvalidDataException($"the WAL gap record {path} cannot be read ({ex.Message}); restore it from the second repository or fix it by hand", ex);
        }
    }

    public static async Task AppendAsync(TierRepository repository, WalGap gap, CancellationToken ct) =>
        await WriteAsync(repository, [.. Read(repository), gap], ct).ConfigureAwait(false);

    /// <summary>Forgets the gaps wholly before <paramref name="cutoffLsn"/>: retention removed every WAL file and
    /// backup on their far side, so no restore can meet them any more. Returns how many went.</summary>
    public static async Task<int> PruneBeforeAsync(TierRepository repository, ulong cutoffLsn, CancellationToken ct)
    {
        var gaps = Read(repository);
        var kept = gaps.Where(g => g.ToLsn > cutoffLsn).ToList();
        if (kept.Count == gaps.Count) return 0;
        await WriteAsync(repository, kept, ct).ConfigureAwait(false);
        return gaps.Count - kept.Count;
    }

    private static async Task WriteAsync(TierRepository repository, IReadOnlyList<WalGap> gaps, CancellationToken ct)
    {
        var path = PathOf(repository);
        Directory.CreateDirectory(repository.TierDirectory);
        var temp = path + ".tmp";
        await OsUser.WriteFileAsync(temp, JsonSerializer.Serialize(gaps),
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, forPostgres: false, ct).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
    }
}
