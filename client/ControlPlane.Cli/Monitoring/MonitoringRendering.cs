using System.Globalization;
using System.Text;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Monitoring;

/// <summary>Human text of the monitoring and alert answers; <c>--json</c> prints the messages themselves.</summary>
internal static class MonitoringRendering
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Performance(Performance p, int top)
    {
        var b = new StringBuilder();
        b.AppendLine(Inv, $"{p.Tier}/{p.Replica}  database {p.Database}  cache hit {p.CacheHitRatio:P1}  xid age {p.XidAge:N0} ({p.OldestDatabase})");
        if (p.Error.Length > 0) b.AppendLine(Inv, $"last sampling error: {p.Error}");
        b.AppendLine();
        b.AppendLine("TOP STATEMENTS (by total time)");
        if (!p.StatementsAvailable) b.AppendLine("  pg_stat_statements is not installed in this database: CREATE EXTENSION pg_stat_statements; (needs shared_preload_libraries)");
        foreach (var s in p.Statements.Take(top))
        {
            var regression = s.Regressed ? $"  REGRESSED {s.IntervalMeanMs:0.###} ms vs baseline {s.BaselineMeanMs:0.###} ms" : "";
            b.AppendLine(Inv, $"  {s.TotalMs,12:0.0} ms  {s.Calls,9} calls  {s.MeanMs,10:0.###} ms/call  {s.Rows,9} rows{regression}");
            b.AppendLine(Inv, $"      {OneLine(s.Query, 110)}");
        }
        b.AppendLine();
        b.AppendLine("INDEX ADVICE (run these yourself; the control plane never does)");
        if (p.Advice.Count == 0) b.AppendLine("  none");
        foreach (var a in p.Advice)
        {
            b.AppendLine(Inv, $"  {a.Kind,-22} {a.Schema}.{(a.Index.Length > 0 ? a.Index : a.Table)}  {Size(a.SizeBytes)}  {a.Reason}");
            b.AppendLine(Inv, $"      {a.Command}");
        }
        if (p.LockChains.Count > 0)
        {
            b.AppendLine();
            b.AppendLine("LOCK CHAINS");
            foreach (var chain in p.LockChains)
            {
                foreach (var s in chain.Sessions)
                {
                    b.AppendLine(Inv, $"  {new string(' ', 2 * s.Depth)}{(s.Depth == 0 ? "blocker" : "waits  ")} pid {s.Pid} {s.User}@{s.Database} ({s.ApplicationName}) {s.State}  {string.Join("; ", s.Locks)}");
                    b.AppendLine(Inv, $"  {new string(' ', 2 * s.Depth)}        {OneLine(s.Query, 100)}");
                }
            }
        }
        var longOnes = p.Transactions.Where(t => t.TransactionAgeSeconds >= 1).ToList();
        if (longOnes.Count > 0)
        {
            b.AppendLine();
            b.AppendLine("OPEN TRANSACTIONS (oldest first)");
            foreach (var t in longOnes)
                b.AppendLine(Inv, $"  pid {t.Pid} {t.User}@{t.Database} ({t.ApplicationName}) {t.State}  open {t.TransactionAgeSeconds:0}s  in state {t.StateAgeSeconds:0}s  -- SELECT pg_terminate_backend({t.Pid});");
        }
        if (p.Slots.Count > 0)
        {
            b.AppendLine();
            b.AppendLine("REPLICATION SLOTS");
            foreach (var s in p.Slots)
                b.AppendLine(Inv, $"  {s.Name,-20} {s.Type,-8} {(s.Active ? "active" : "INACTIVE"),-8} {s.WalStatus,-10} retains {(s.HasRetainedBytes ? Size(s.RetainedBytes) : "-")}");
        }
        return b.ToString();
    }

    public static string Alerts(ListAlertsResponse list)
    {
        if (list.Alerts.Count == 0) return "no alerts\n";
        var b = new StringBuilder();
        b.AppendLine(Inv, $"{"STATE",-8} {"SEVERITY",-9} {"RULE",-24} {"SINCE",-20} {"VALUE",12}  LABELS");
        foreach (var a in list.Alerts)
        {
            b.AppendLine(Inv, $"{a.State + (a.Silenced ? "*" : ""),-8} {a.Severity,-9} {a.Rule,-24} {a.Since.ToDateTimeOffset():yyyy-MM-dd HH:mm:ss} {a.Value,12:G6}  {Labels(a.Labels)}");
        }
        if (list.Alerts.Any(a => a.Silenced)) b.AppendLine("* silenced");
        return b.ToString();
    }

    public static string Event(AlertEvent e) =>
        string.Create(Inv, $"{e.At.ToDateTimeOffset():yyyy-MM-dd HH:mm:ss} #{e.Version} {(e.Snapshot ? "active:" + e.Phase : e.Phase),-15} {e.Severity,-8} {e.Rule} {Labels(e.Labels)} value {e.Value:G6}{(e.Silenced ? " (silenced)" : "")}");

    public static string Rules(ListAlertRulesResponse rules)
    {
        var b = new StringBuilder();
        b.AppendLine(Inv, $"{"RULE",-24} {"EXPRESSION",-46} {"FOR",-6} {"SEVERITY",-9} ORIGIN");
        foreach (var r in rules.Rules)
        {
            var origin = (r.Default ? "default" : "environment") + (r.Enabled ? "" : ", disabled");
            b.AppendLine(Inv, $"{r.Name,-24} {r.Expression,-46} {Backups.DurationText.Format(r.For?.ToTimeSpan() ?? TimeSpan.Zero),-6} {r.Severity,-9} {origin}");
        }
        return b.ToString();
    }

    public static string Silences(ListSilencesResponse list)
    {
        if (list.Silences.Count == 0) return "no silences\n";
        var b = new StringBuilder();
        foreach (var s in list.Silences)
        {
            b.AppendLine(Inv, $"{s.Id,-5} {(s.Active ? "active" : "ended"),-7} until {s.Ends.ToDateTimeOffset():yyyy-MM-dd HH:mm:ss}  {Labels(s.Matchers)}  by {s.CreatedBy}  {s.Comment}");
        }
        return b.ToString();
    }

    private static string Labels(IEnumerable<KeyValuePair<string, string>> labels) =>
        string.Join(",", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));

    private static string OneLine(string text, int max)
    {
        var line = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return line.Length <= max ? line : line[..max] + "…";
    }

    private static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(Inv, $"{bytes / (double)(1L << 30):0.0} GiB"),
        >= 1L << 20 => string.Create(Inv, $"{bytes / (double)(1L << 20):0.0} MiB"),
        >= 1L << 10 => string.Create(Inv, $"{bytes / 1024.0:0.0} KiB"),
        _ => string.Create(Inv, $"{bytes} B"),
    };
}
