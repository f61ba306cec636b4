using System.Globalization;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;

namespace ControlPlane.Cli.Catalog;

/// <summary>Pure views of the catalog's backups: the part of <c>cpctl catalog status</c> about them, and one backup.</summary>
internal static class CatalogBackupRendering
{
    public static IEnumerable<string> Lines(GetCatalogStatusResponse s)
    {
        var a = s.Archive;
        if (a is null) yield break;
        if (!a.Enabled)
        {
            yield return $"backups      : off ({a.DisabledReason})";
            yield break;
        }
        yield return $"repository   : {a.Repository}";
        yield return $"WAL archive  : {(a.Streaming ? "streaming" : "NOT streaming")}, newest segment {Or(a.NewestSegment)}, {a.ArchiverRestarts} restart(s)"
            + (a.LastError.Length > 0 && !a.Streaming ? $"; last error: {a.LastError}" : "");
        yield return a.Schedule.Length == 0
            ? $"schedule     : none (on demand: cpctl catalog backup), keep {a.KeepLast}"
            : $"schedule     : '{a.Schedule}' UTC, keep {a.KeepLast}, next {Time(a.NextBackup)}";
        if (s.Backups.Count == 0)
        {
            yield return "backups      : none yet";
            yield break;
        }
        yield return "backups      :";
        foreach (var b in s.Backups) yield return "  " + One(b);
    }

    /// <summary>One line: id, state, when, size, timeline and WAL range, or the error.</summary>
    public static string One(CatalogBackup b) => b.State switch
    {
        "succeeded" => $"{b.Id}  succeeded  {Time(b.Finished)}  {Size(b.Bytes)}  timeline {b.Timeline}  WAL {b.StartLsn}..{b.StopLsn}",
        "failed" => $"{b.Id}  FAILED     {Time(b.Finished)}  {b.Error}",
        _ => $"{b.Id}  {b.State,-9}  since {Time(b.Started)}",
    };

    private static string Size(long bytes) =>
        bytes >= 1 << 20 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB") : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0} KiB");

    private static string Or(string s) => s.Length == 0 ? "-" : s;

    private static string Time(Timestamp? t) =>
        t is null ? "-" : t.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
