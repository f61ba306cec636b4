using System.Globalization;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;

namespace ControlPlane.Cli.Catalog;

/// <summary>Pure views of the catalog's status: the full report and the one alert line <c>cpctl status</c> adds.</summary>
internal static class CatalogRendering
{
    public static string Status(GetCatalogStatusResponse s, DateTimeOffset now)
    {
        var lines = new List<string>
        {
            $"catalog      : {(s.Reachable ? "reachable" : "UNREACHABLE")} since {Time(s.Since)} ({Ago(s.Since, now)})",
            $"where        : {s.Endpoint}",
            $"answered by  : silo {s.Silo}",
            $"last check   : {Time(s.LastCheck)}{(s.ConsecutiveFailures > 0 ? $", {s.ConsecutiveFailures} failed in a row" : "")}",
        };
        if (s.LastError.Length > 0) lines.Add($"last error   : {s.LastError}");
        lines.Add(s.Embedded
            ? $"supervision  : embedded, restarted {s.Restarts} time(s){(s.LastRestart is null ? "" : $", last at {Time(s.LastRestart)}")}; {s.RecentCrashes} crash(es) in the crash-loop window"
            : "supervision  : external catalog (watched for reachability only)");
        if (s.CrashLoop) lines.Add("ALERT        : the embedded catalog is crash-looping; read its log (docs/catalog.md, runbook)");
        lines.Add($"token cache  : {s.CachedTokens} token(s), invalidation listener {(s.TokenListenerConnected ? "connected" : "NOT connected")}");
        if (!s.Reachable) lines.Add("commands     : REFUSED (UNAVAILABLE) until the catalog returns; queries and watches answer from memory");
        lines.AddRange(Replication(s.Replication, now));
        lines.AddRange(CatalogBackupRendering.Lines(s));
        return string.Join(Environment.NewLine, lines);
    }

    private static IEnumerable<string> Replication(CatalogReplication? r, DateTimeOffset now)
    {
        if (r is null) yield break;
        var mode = r.Asynchronous ? "asynchronous" : r.DegradedSince is null ? "synchronous" : "synchronous, DEGRADED";
        yield return $"ha           : primary {r.Primary}, standby {r.Standby} ({mode}); {r.Promotions} promotion(s)";
        if (r.DegradedSince is not null)
        {
            yield return $"ALERT        : the standby may lack acknowledged writes since {Time(r.DegradedSince)} ({Ago(r.DegradedSince, now)}): {r.DegradedReason}; it is not promoted until synchronous and caught up";
        }
        if (r.Observed)
        {
            yield return $"standby      : {(r.StandbyState.Length > 0 ? "streaming (" + r.StandbyState + ")" : "NOT streaming")}; commits {(r.WaitsForStandby ? "wait for it" : "do not wait for it")}; {r.Finding}";
        }
    }

    /// <summary>The line <c>cpctl status</c> prints under the tiers; null when there is nothing to say.</summary>
    public static string? Alert(GetCatalogStatusResponse s, DateTimeOffset now)
    {
        if (!s.Reachable)
        {
            return $"ALERT catalog unreachable since {Time(s.Since)} ({Ago(s.Since, now)}): commands are refused; queries and watches answer from memory."
                + (s.LastError.Length > 0 ? $" Last error: {s.LastError}" : "");
        }
        if (s.CrashLoop) return $"ALERT catalog crash loop: restarted {s.Restarts} time(s), {s.RecentCrashes} crash(es) recently; see 'cpctl catalog status'.";
        return s.Replication is { DegradedSince: not null } r
            ? $"ALERT catalog standby may lack acknowledged writes since {Time(r.DegradedSince)} ({r.DegradedReason}): it is not promoted; see 'cpctl catalog status'."
            : null;
    }

    private static string Time(Timestamp? t) =>
        t is null ? "-" : t.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string Ago(Timestamp? t, DateTimeOffset now)
    {
        if (t is null) return "-";
        var d = now - t.ToDateTimeOffset();
        if (d < TimeSpan.Zero) d = TimeSpan.Zero;
        return d.TotalSeconds < 120 ? $"{d.TotalSeconds:0} s ago" : d.TotalMinutes < 120 ? $"{d.TotalMinutes:0} min ago" : $"{d.TotalHours:0.#} h ago";
    }
}
