using System.Globalization;
using ControlPlane.Postgres.Health;

namespace ControlPlane.Postgres.Failover;

/// <summary>One line of a timeline history file: <paramref name="Timeline"/> ended (forked off) at <paramref name="SwitchPoint"/>.</summary>
public sealed record TimelineHistoryEntry(int Timeline, Lsn SwitchPoint);

/// <summary>Where a (new) primary stands: its timeline, its current WAL position and the history that led there.</summary>
public sealed record SourceTimeline(int Timeline, Lsn CurrentLsn, IReadOnlyList<TimelineHistoryEntry> History);

/// <summary>Timeline history files (<c>pg_wal/0000000N.history</c>): <c>parentTLI switchpoint reason</c> per line.</summary>
public static class TimelineHistory
{
    /// <summary>The history file name of <paramref name="timeline"/>, as PostgreSQL names it (upper-case hex).</summary>
    public static string FileName(int timeline)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeline);
        return string.Create(CultureInfo.InvariantCulture, $"{timeline:X8}.history");
    }

    public static IReadOnlyList<TimelineHistoryEntry> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var entries = new List<TimelineHistoryEntry>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var parts = line.Split((char[])['\t', ' '], 3, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length < 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var tli) || !Lsn.TryParse(parts[1], out var at))
            {
                throw new FormatException($"Timeline history line '{line}' is not '<parent timeline> <switch point> <reason>'.");
            }
            entries.Add(new TimelineHistoryEntry(tli, at));
        }
        return entries;
    }
}
