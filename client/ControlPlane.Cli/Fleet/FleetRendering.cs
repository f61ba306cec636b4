using ControlPlane.Protos.V1;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ControlPlane.Cli.Fleet;

/// <summary>Pure views of fleet responses: same input and clock, same output. No I/O here.</summary>
internal static class FleetRendering
{
    public static IRenderable Status(ListTiersResponse response, DateTimeOffset now)
    {
        if (response.Tiers.Count == 0)
        {
            return new Markup($"no tiers in environment '{Markup.Escape(response.Environment)}'");
        }

        var parts = new List<IRenderable>();
        foreach (var tier in response.Tiers)
        {
            parts.Add(TierHeader(tier));
            parts.Add(Replicas(tier, now));
        }

        return new Rows(parts);
    }

    public static IRenderable Tier(Tier tier, DateTimeOffset now) =>
        new Rows(TierHeader(tier), Replicas(tier, now));

    /// <summary>"oltp  HEALTHY  primary oltp-1  term 3  version 42", with the reason when not healthy.</summary>
    public static Markup TierHeader(Tier tier)
    {
        var health = FleetFormat.Health(tier.Health);
        var line = $"[bold]{Markup.Escape(tier.Name)}[/]  [{FleetFormat.HealthColour(tier.Health)}]{health}[/]"
            + $"  primary {Markup.Escape(FleetFormat.OrDash(tier.Primary))}  term {tier.Term}  version {tier.Version}";
        if (!string.IsNullOrEmpty(tier.HealthReason))
        {
            line += $"  [dim]({Markup.Escape(tier.HealthReason)})[/]";
        }

        if (tier.Paused)
        {
            line += "  [yellow]PAUSED[/]";
        }

        if (!string.IsNullOrEmpty(tier.PoolAlert))
        {
            line += $"  [yellow]POOL: {Markup.Escape(tier.PoolAlert)}[/]";
        }

        if (!string.IsNullOrEmpty(tier.BackupAlert))
        {
            line += $"  [red]BACKUP: {Markup.Escape(tier.BackupAlert)}[/]";
        }

        if (!string.IsNullOrEmpty(tier.Alert))
        {
            line += $"  [red]ALERT: {Markup.Escape(tier.Alert)}[/]";
        }

        return new Markup(line);
    }

    public static Table Replicas(Tier tier, DateTimeOffset now)
    {
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns("REPLICA", "ROLE", "HEALTHY", "LAG", "LAG TIME", "CONNECTIONS", "LAST PROBE", "FAILURES", "PROBLEM");
        foreach (var replica in tier.Replicas)
        {
            table.AddRow(ReplicaCells(replica, now));
        }

        return table;
    }

    public static IRenderable Replica(Replica replica, DateTimeOffset now)
    {
        var grid = new Grid().AddColumn().AddColumn();
        void Row(string key, string value) => grid.AddRow(new Markup($"[bold]{key}[/]"), new Text(value));

        Row("replica", $"{replica.Tier}/{replica.Name}");
        Row("environment", FleetFormat.OrDash(replica.Environment));
        Row("role", FleetFormat.Role(replica.Role));
        grid.AddRow(new Markup("[bold]healthy[/]"), Healthy(replica.Healthy));
        Row("reachable", replica.Reachable ? "yes" : "no");
        Row("address", $"{FleetFormat.OrDash(replica.Host)}:{replica.Port}");
        Row("lag", $"{FleetFormat.Bytes(replica.LagBytes)}, {FleetFormat.LagSeconds(replica.LagSeconds)}");
        Row("connections", FleetFormat.Connections(replica.Connections, replica.MaxConnections));
        Row("last probe", $"{FleetFormat.Age(replica.LastProbeAt, now)} ({replica.ProbeLatencyMs:0.0} ms)");
        Row("failures", replica.ConsecutiveFailures.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Row("new session", NewSession(replica, now));
        Row("timeline", replica.Timeline.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Row("lsn current/receive/replay", $"{FleetFormat.OrDash(replica.CurrentLsn)} / {FleetFormat.OrDash(replica.ReceiveLsn)} / {FleetFormat.OrDash(replica.ReplayLsn)}");
        Row("wal receiver", FleetFormat.OrDash(replica.WalReceiverStatus));
        Row("server version", FleetFormat.OrDash(replica.ServerVersion));
        Row("problem", FleetFormat.OrDash(replica.Problem));
        return grid;
    }

    /// <summary>One watch event on one line: time, tier, version, health, primary, term, changes.</summary>
    public static string WatchLine(TierEvent tierEvent)
    {
        var tier = tierEvent.Tier ?? new Tier { Name = tierEvent.TierName };
        var health = FleetFormat.Health(tier.Health);
        var what = tierEvent.Kind == TierEventKind.Snapshot
            ? "[dim]snapshot[/]"
            : Markup.Escape(string.Join("; ", tierEvent.Changes));
        return $"{FleetFormat.Time(tierEvent.At)}  [bold]{Markup.Escape(FleetFormat.OrDash(tierEvent.TierName))}[/]"
            + $"  v{tierEvent.Version}  [{FleetFormat.HealthColour(tier.Health)}]{health}[/]"
            + $"  primary={Markup.Escape(FleetFormat.OrDash(tier.Primary))}  term={tier.Term}  {what}";
    }

    private static IRenderable[] ReplicaCells(Replica replica, DateTimeOffset now) =>
    [
        new Text(replica.Name),
        new Text(FleetFormat.Role(replica.Role)),
        Healthy(replica.Healthy),
        new Text(FleetFormat.Bytes(replica.LagBytes)),
        new Text(FleetFormat.LagSeconds(replica.LagSeconds)),
        new Text(FleetFormat.Connections(replica.Connections, replica.MaxConnections)),
        new Text(FleetFormat.Age(replica.LastProbeAt, now)),
        new Text(replica.ConsecutiveFailures.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new Text(FleetFormat.OrDash(replica.Problem)),
    ];

    /// <summary>The fresh-connection check: what a client that is not connected yet gets, which pooled probes cannot tell.</summary>
    public static string NewSession(Replica replica, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(replica.Session)) return "-";
        var when = $"checked {FleetFormat.Age(replica.SessionCheckedAt, now)}";
        return replica.Session == "opened"
            ? $"opened ({replica.SessionLatencyMs:0.0} ms, {when})"
            : $"{replica.Session.Replace('_', ' ')}: {FleetFormat.OrDash(replica.SessionError)} ({replica.SessionFailures.ToString(System.Globalization.CultureInfo.InvariantCulture)} in a row, {when})";
    }

    private static Markup Healthy(bool healthy) => healthy ? new Markup("[green]yes[/]") : new Markup("[red]no[/]");
}
