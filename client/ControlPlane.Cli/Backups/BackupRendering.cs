using System.Globalization;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ControlPlane.Cli.Backups;

/// <summary>Pure views of backups and the backup policy.</summary>
internal static class BackupRendering
{
    public static IRenderable List(string tier, ListBackupsResponse response)
    {
        if (response.Backups.Count == 0) return new Text($"no backups of tier {tier}; take one with: cpctl backup run {tier}");
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns("ID", "STATE", "STARTED (UTC)", "DURATION", "SIZE", "TL", "START LSN", "STOP LSN", "VERIFIED", "SOURCE");
        foreach (var b in response.Backups)
        {
            table.AddRow(
                new Text(b.Id), new Markup(StateMarkup(b.State)), new Text(Time(b.StartedAt)), new Text(Span(b.Duration)),
                new Text(b.Bytes > 0 ? FleetFormat.Bytes(b.Bytes) : "-"), new Text(b.Timeline > 0 ? N(b.Timeline) : "-"),
                new Text(FleetFormat.OrDash(b.StartLsn)), new Text(FleetFormat.OrDash(b.StopLsn)),
                new Text(b.Verified ? "yes" : "no"), new Text(FleetFormat.OrDash(b.SourceReplica)));
        }
        return table;
    }

    public static IRenderable Detail(Backup b)
    {
        var grid = Grid();
        Row(grid, "backup", $"{b.Id} of tier {b.Tier}");
        grid.AddRow(new Markup("[bold]state[/]"), new Markup(StateMarkup(b.State)));
        Row(grid, "started / finished (UTC)", $"{Time(b.StartedAt)} / {Time(b.FinishedAt)}");
        Row(grid, "duration", Span(b.Duration));
        Row(grid, "size", b.Bytes > 0 ? $"{FleetFormat.Bytes(b.Bytes)} ({N(b.Bytes)} B), {FleetFormat.OrDash(b.Compression)}" : "-");
        Row(grid, "timeline", b.Timeline > 0 ? N(b.Timeline) : "-");
        Row(grid, "WAL start / stop", $"{FleetFormat.OrDash(b.StartLsn)} / {FleetFormat.OrDash(b.StopLsn)}");
        Row(grid, "source", FleetFormat.OrDash(b.SourceReplica));
        Row(grid, "verified", b.Verified ? "yes" : "no");
        Row(grid, "verify detail", FleetFormat.OrDash(b.VerifyDetail));
        Row(grid, "restore point", b.RestorePoint.Length > 0 ? $"{b.RestorePoint} at {FleetFormat.OrDash(b.RestorePointLsn)}" : "-");
        Row(grid, "repositories", b.Repositories.Count > 0 ? string.Join(", ", b.Repositories) : "-");
        Row(grid, "drills", b.Drills.Count > 0 ? string.Join(", ", b.Drills) : "none");
        Row(grid, "by / operation", $"{FleetFormat.OrDash(b.Principal)} / {FleetFormat.OrDash(b.OperationId)}");
        if (b.Error.Length > 0) grid.AddRow(new Markup("[bold]error[/]"), new Markup($"[red]{Markup.Escape(b.Error)}[/]"));
        return new Rows(grid, Counts(b.Counts));
    }

    public static IRenderable Counts(IEnumerable<TableCount> counts)
    {
        var rows = counts.ToList();
        if (rows.Count == 0) return new Text("no table counts recorded");
        var table = new Table().Border(TableBorder.Simple).AddColumns("DATABASE", "TABLE", "ROWS");
        foreach (var c in rows) table.AddRow(new Text(c.Database), new Text(c.Table), new Text(N(c.Rows)));
        return table;
    }

    public static IRenderable Policy(BackupPolicy p)
    {
        var grid = Grid();
        Row(grid, "tier", p.Tier);
        Row(grid, "schedule (UTC)", Or(p.Schedule, "none"));
        Row(grid, "keep last", p.KeepLast > 0 ? $"{N(p.KeepLast)} backups" : "no count rule");
        Row(grid, "recovery window", p.RecoveryWindow is { } w && w.ToTimeSpan() > TimeSpan.Zero ? DurationText.Format(w.ToTimeSpan()) : "no window rule");
        Row(grid, "source", p.Source == BackupSource.BestStandby ? "best-standby" : "primary");
        Row(grid, "verify", p.Verify ? "true" : "false");
        Row(grid, "drill schedule (UTC)", Or(p.DrillSchedule, "none"));
        Row(grid, "RPO / RTO target", $"{Target(p.RpoTarget)} / {Target(p.RtoTarget)}");
        Row(grid, "repository", Or(p.Repository, "(not set)"));
        Row(grid, "second repository", Or(p.SecondRepository, "none"));
        Row(grid, "compression", Or(p.Compression, "-"));
        Row(grid, "max rate", p.MaxRateKbps > 0 ? $"{N(p.MaxRateKbps)} kB/s" : "unlimited");
        Row(grid, "archive WAL", p.ArchiveWal ? "true" : "false");
        return grid;
    }

    public static string StateMarkup(BackupState state) => state switch
    {
        BackupState.Running => "[yellow]running[/]",
        BackupState.Succeeded => "[green]succeeded[/]",
        BackupState.Failed => "[red]FAILED[/]",
        BackupState.Deleted => "[grey]deleted[/]",
        _ => "unknown",
    };

    /// <summary>UTC to the second: backups are minutes long, milliseconds would only be noise here.</summary>
    public static string Time(Timestamp? at) =>
        at is null || (at.Seconds == 0 && at.Nanos == 0) ? "-" : at.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public static string Span(Duration? d) => d is null ? "-" : FleetFormat.Duration(d.ToTimeSpan());

    public static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A row of plain text: paths, errors and reasons may hold '[' that Spectre would read as markup.</summary>
    public static void TextRow(Table table, params string[] cells) => table.AddRow(cells.Select(c => new Text(c)));

    public static Grid Grid() => new Grid().AddColumn().AddColumn();

    public static void Row(Grid grid, string key, string value) => grid.AddRow(new Markup($"[bold]{Markup.Escape(key)}[/]"), new Text(value));

    private static string Target(Duration? d) => d is null ? "-" : DurationText.Format(d.ToTimeSpan());

    private static string Or(string value, string none) => value.Length > 0 ? value : none;
}
