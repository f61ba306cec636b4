using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ControlPlane.Postgres.Health;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// What a finished backup's <c>backup_manifest</c> says about its WAL: the timeline it ends on and the range of WAL
/// a restore must replay to reach consistency.
/// </summary>
/// <param name="StartedAt">When the backup started (the manifest's time for <c>backup_label</c>, which the server writes at the start); null when absent.</param>
public sealed record BackupWalRange(int Timeline, ulong StartLsn, ulong StopLsn, DateTimeOffset? StartedAt);

/// <summary>Reads pg_basebackup's output: the manifest (JSON) and the <c>-P</c> progress lines. Pure.</summary>
public static partial class BackupManifest
{
    /// <summary>Parses the manifest; a range over several timelines (a backup across a promotion) ends on the newest.</summary>
    public static BackupWalRange Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        using var doc = JsonDocument.Parse(json);
        if (!doc.RootElement.TryGetProperty("WAL-Ranges", out var ranges) || ranges.ValueKind != JsonValueKind.Array || ranges.GetArrayLength() == 0)
        {
            throw new FormatException("backup_manifest has no \"WAL-Ranges\"; expected a manifest written by pg_basebackup with WAL included.");
        }
        var parsed = ranges.EnumerateArray()
            .Select(r => (Timeline: r.GetProperty("Timeline").GetInt32(),
                          Start: Lsn.Parse(r.GetProperty("Start-LSN").GetString() ?? ""),
                          End: Lsn.Parse(r.GetProperty("End-LSN").GetString() ?? "")))
            .ToList();
        return new BackupWalRange(
            parsed.Max(r => r.Timeline),
            parsed.Min(r => r.Start).Value,
            parsed.Max(r => r.End).Value,
            LabelTime(doc.RootElement));
    }

    /// <summary>
    /// One <c>-P</c> line, <c>12345/67890 kB (18%), 0/1 tablespace</c>, as bytes done and expected (the total is the
    /// server's estimate and may grow); null for any other line.
    /// </summary>
    public static (long Done, long Total)? ParseProgress(string line)
    {
        var m = ProgressLine().Match(line ?? "");
        if (!m.Success) return null;
        return long.TryParse(m.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var done)
               && long.TryParse(m.Groups[2].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var total)
            ? (done * 1024, total * 1024)
            : null;
    }

    private static DateTimeOffset? LabelTime(JsonElement root)
    {
        if (!root.TryGetProperty("Files", out var files) || files.ValueKind != JsonValueKind.Array) return null;
        foreach (var file in files.EnumerateArray())
        {
            if (file.TryGetProperty("Path", out var path) && path.GetString() == "backup_label"
                && file.TryGetProperty("Last-Modified", out var modified)
                // Written with gmtime: "2026-11-27 21:58:33 GMT".
                && DateTime.TryParseExact(modified.GetString(), "yyyy-MM-dd HH:mm:ss 'GMT'", CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at))
            {
                return new DateTimeOffset(at, TimeSpan.Zero);
            }
        }
        return null;
    }

    [GeneratedRegex(@"^\s*(\d+)/(\d+) kB \(", RegexOptions.CultureInvariant)]
    private static partial Regex ProgressLine();
}
