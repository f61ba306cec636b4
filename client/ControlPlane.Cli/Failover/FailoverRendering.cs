using System.Globalization;
using ControlPlane.Protos.V1;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ControlPlane.Cli.Failover;

/// <summary>Pure views of failover responses.</summary>
internal static class FailoverRendering
{
    public static string State(OperationState state) => state switch
    {
        OperationState.Pending => "pending",
        OperationState.Running => "running",
        OperationState.Succeeded => "succeeded",
        OperationState.Failed => "FAILED",
        _ => "unknown",
    };

    public static IRenderable History(ListDecisionsResponse response)
    {
        if (response.Decisions.Count == 0) return new Text($"no decisions recorded for tier {response.Tier}");
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns("#", "AT (UTC)", "TERM", "KIND", "PRIMARY", "BY", "OUTCOME", "REASON");
        foreach (var d in response.Decisions)
        {
            var primary = d.OldPrimary == d.NewPrimary ? d.NewPrimary : $"{d.OldPrimary} -> {d.NewPrimary}";
            table.AddRow(
                new Text(d.Sequence.ToString(CultureInfo.InvariantCulture)),
                new Text(d.At.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)),
                new Text(d.Term.ToString(CultureInfo.InvariantCulture)),
                new Text(d.Kind),
                new Text(primary),
                new Text(d.Principal),
                new Markup(d.Outcome == "failed" ? "[red]failed[/]" : Markup.Escape(d.Outcome)),
                new Text(Detail(d)));
        }
        return table;
    }

    public static IRenderable Divergences(ListDivergencesResponse response, bool transactions)
    {
        if (response.Divergences.Count == 0) return new Text($"no divergent WAL saved for tier {response.Tier}");
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns("SAVED (UTC)", "REPLICA", "TIMELINE", "RANGE", "BYTES", "TRANSACTIONS", "COMMITTED", "NEW PRIMARY", "DIRECTORY");
        foreach (var d in response.Divergences)
        {
            table.AddRow(
                d.SavedAt.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
                d.Replica,
                d.Timeline.ToString(CultureInfo.InvariantCulture),
                $"{d.StartLsn}-{d.EndLsn}",
                d.Bytes.ToString(CultureInfo.InvariantCulture),
                d.Transactions.Count.ToString(CultureInfo.InvariantCulture),
                d.Committed.ToString(CultureInfo.InvariantCulture),
                $"{d.NewPrimary} (timeline {d.NewTimeline}, term {d.Term})",
                d.Directory);
        }
        if (!transactions) return table;
        var rows = new List<IRenderable> { table };
        foreach (var d in response.Divergences)
        {
            var txs = new Table().Border(TableBorder.Simple).Title($"{d.Replica} {d.StartLsn}-{d.EndLsn}")
                .AddColumns("XID", "OUTCOME", "AT", "RECORDS", "BYTES", "LSNS", "RELATIONS (records)");
            foreach (var t in d.Transactions)
            {
                txs.AddRow(
                    new Text(t.Xid.ToString(CultureInfo.InvariantCulture)),
                    new Markup(t.Outcome == "committed" ? "[yellow]committed[/]" : Markup.Escape(t.Outcome)),
                    new Text(t.EndedAt),
                    new Text(t.Records.ToString(CultureInfo.InvariantCulture)),
                    new Text(t.Bytes.ToString(CultureInfo.InvariantCulture)),
                    new Text($"{t.FirstLsn}-{t.LastLsn}"),
                    new Text(string.Join(", ", t.Relations.Select(r => $"{r.Relation} ({r.Records})"))));
            }
            rows.Add(txs);
        }
        return new Rows(rows);
    }

    public static IRenderable Routing(Routing routing)
    {
        var table = new Table().Border(TableBorder.Simple).AddColumns("ROLE", "REPLICA", "ENDPOINT", "HEALTHY", "LAG");
        if (routing.Primary is { } p) table.AddRow("primary", p.Replica, $"{p.Host}:{p.Port}", p.Healthy ? "yes" : "NO", "-");
        foreach (var s in routing.Standbys)
        {
            table.AddRow("standby", s.Replica, $"{s.Host}:{s.Port}", s.Healthy ? "yes" : "NO",
                $"{s.LagBytes.ToString(CultureInfo.InvariantCulture)} B, {s.LagSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s");
        }
        return new Rows(
            new Markup($"[bold]{Markup.Escape(routing.Tier)}[/]  term {routing.Term}  version {routing.Version}  "
                + (routing.Writable ? "[green]writable[/]" : "[red]NOT WRITABLE[/]")),
            table);
    }

    public static string RoutingLine(Routing r) =>
        $"{DateTimeOffset.UtcNow:HH:mm:ss.fff}  {r.Tier}  term {r.Term}  version {r.Version}  primary "
        + (r.Primary is { } p ? $"{p.Replica} {p.Host}:{p.Port}{(p.Healthy ? "" : " (unhealthy)")}" : "-")
        + (r.Writable ? "" : "  NOT WRITABLE");

    public static IRenderable Settings(FailoverSettings s)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string key, string value) => grid.AddRow(new Markup($"[bold]{key}[/]"), new Text(value));
        Row("tier", s.Tier);
        Row("auto failover", s.AutoFailover ? "on" : "off");
        Row("failure threshold", $"{s.FailureThreshold} probes");
        Row("probe interval / timeout", $"{s.ProbeIntervalMs} ms / {s.ProbeTimeoutMs} ms");
        Row("max lag on failover", $"{s.MaxLagOnFailoverBytes} B, {s.MaxLagOnFailoverSeconds:0.###} s of replay");
        Row("synchronous mode", s.SynchronousMode.ToString().ToLowerInvariant()
            + (s.SynchronousMode == SynchronousMode.On ? $" (asynchronous after {s.SynchronousDegradeAfterMs} ms with no standby streaming)" : ""));
        Row("crash loop", s.CrashLoopCount == 0 ? "off" : $"{s.CrashLoopCount} restarts in {s.CrashLoopWindowSeconds} s");
        Row("disk full / write check below", $"{s.DiskFullBelowBytes} B / {s.DiskWriteCheckBelowBytes} B");
        Row("not streaming heal after", $"{s.NotStreamingHealAfterSeconds} s");
        Row("priorities", s.Priorities.Count == 0 ? "(all 1)" : string.Join(", ", s.Priorities.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}")));
        return grid;
    }

    private static string Detail(Decision d)
    {
        var text = d.Reason;
        if (d.Steps.Count > 0) text += " | " + string.Join("; ", d.Steps);
        return text;
    }
}
