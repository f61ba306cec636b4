using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;
using Spectre.Console;
using Spectre.Console.Rendering;
using static ControlPlane.Cli.Backups.BackupRendering;

namespace ControlPlane.Cli.Backups;

/// <summary>Pure views of what backups are for: restores, drills, the WAL archive, retention and tenant exports.</summary>
internal static class RecoveryRendering
{
    public static IRenderable Restores(string tier, ListRestoresResponse response)
    {
        if (response.Restores.Count == 0) return new Text($"no restores of tier {tier}");
        var table = new Table().Border(TableBorder.Simple)
            .AddColumns("ID", "STATUS", "INTO", "BACKUP", "TARGET", "ENDPOINT", "TL", "REACHED LSN", "STARTED (UTC)", "DATA DIRECTORY", "ERROR");
        foreach (var r in response.Restores)
        {
            TextRow(table, r.Id, Status(r.Status), Into(r.Into), FleetFormat.OrDash(r.BackupId), FleetFormat.OrDash(r.Target),
                r.Port > 0 ? $"{r.Host}:{r.Port}" : "-", r.Timeline > 0 ? N(r.Timeline) : "-", FleetFormat.OrDash(r.ReachedLsn),
                Time(r.StartedAt), FleetFormat.OrDash(r.DataDirectory), FleetFormat.OrDash(r.Error));
        }
        return table;
    }

    /// <summary>Where the restored instance is, for the SRE to connect to.</summary>
    public static string Restored(RestoredInstance r) =>
        $"restore {r.Id} {Status(r.Status)} ({Into(r.Into)} from backup {FleetFormat.OrDash(r.BackupId)}, target {FleetFormat.OrDash(r.Target)})"
        + $": {r.Host}:{r.Port}, data directory {FleetFormat.OrDash(r.DataDirectory)}, timeline {r.Timeline}, reached {FleetFormat.OrDash(r.ReachedLsn)}"
        + (r.Replica.Length > 0 ? $"; replica {r.Replica} of the tier" : "");

    public static IRenderable Drills(string tier, ListDrillsResponse response)
    {
        if (response.Drills.Count == 0) return new Text($"no drills of tier {tier}; run one with: cpctl drill run {tier}");
        var table = new Table().Border(TableBorder.Simple).AddColumns("ID", "BACKUP", "STARTED (UTC)", "PASSED", "RTO", "FAILED CHECKS");
        foreach (var d in response.Drills)
            table.AddRow(new Text(d.Id), new Text(d.BackupId), new Text(Time(d.StartedAt)), new Markup(Passed(d)), new Text(Span(d.Rto)), new Text(FailedChecks(d)));
        return table;
    }

    public static string DrillLine(Drill d) =>
        $"drill {d.Id} of backup {d.BackupId}: {(d.HasPassed ? (d.Passed ? "passed" : "FAILED") : "running")}, RTO {Span(d.Rto)}"
        + (FailedChecks(d) is var failed && failed != "-" ? $", failed checks: {failed}" : "");

    public static IRenderable Archive(ArchiveStatus a, IReadOnlyList<string> problems)
    {
        var grid = Grid();
        Row(grid, "tier", a.Tier);
        Row(grid, "archiving", a.Enabled ? "on" : "off (policy archive_wal is false)");
        Row(grid, "RPO / target", $"{Span(a.Rpo)} / {Span(a.RpoTarget)}");
        Row(grid, "stored / primary LSN", $"{FleetFormat.OrDash(a.StoredLsn)} / {FleetFormat.OrDash(a.PrimaryLsn)}");
        Row(grid, "streaming", a.Streaming ? $"yes, from {FleetFormat.OrDash(a.Server)}" : "NO");
        Row(grid, "archiver restarts", N(a.Restarts));
        Row(grid, "last error", FleetFormat.OrDash(a.LastError));
        Row(grid, "newest segment", FleetFormat.OrDash(a.NewestSegment));
        foreach (var gap in a.Gaps)
            Row(grid, "gap", $"{gap.FromLsn} to {gap.ToLsn} (timeline {gap.Timeline}, removed by {gap.Server}, recorded {Time(gap.RecordedAt)}){(gap.Bridged ? ", bridged by a later base backup" : ", NOT bridged")}");
        Row(grid, "measured (UTC)", Time(a.MeasuredAt));
        var verdict = problems.Count == 0
            ? new Markup("[green]OK[/]")
            : new Markup(string.Join(Environment.NewLine, problems.Select(p => "[red]PROBLEM[/] " + Markup.Escape(p))));
        return new Rows(grid, verdict);
    }

    /// <summary>Why the archive falls short of its policy; empty when it does not (or archiving is off).</summary>
    public static IReadOnlyList<string> ArchiveProblems(ArchiveStatus a)
    {
        var problems = new List<string>();
        if (!a.Enabled) return problems;
        foreach (var gap in a.Gaps.Where(g => !g.Bridged))
            problems.Add($"the WAL archive of tier {a.Tier} has a gap from {gap.FromLsn} to {gap.ToLsn}: no point-in-time restore past it until a base backup taken after it succeeds");
        if (!a.Streaming) problems.Add($"the WAL archiver of tier {a.Tier} is not streaming" + (a.LastError.Length > 0 ? $" (last error: {a.LastError})" : ""));
        if (a.Rpo is { } rpo && a.RpoTarget is { } target && target.ToTimeSpan() > TimeSpan.Zero && rpo.ToTimeSpan() > target.ToTimeSpan())
            problems.Add($"RPO {Span(rpo)} is above the target {Span(target)}");
        return problems;
    }

    public static IRenderable Decision(RetentionDecision d)
    {
        var grid = Grid();
        var what = d.DryRun ? "dry run (nothing deleted)" : d.CarriedOut ? "carried out" : "not carried out";
        Row(grid, "decision", $"#{d.Sequence} at {Time(d.DecidedAt)}, {what}");
        Row(grid, "delete backups", d.DeleteBackups.Count > 0 ? string.Join(", ", d.DeleteBackups) : "none");
        Row(grid, "delete WAL before", FleetFormat.OrDash(d.WalBefore));
        if (!d.DryRun) Row(grid, "freed", $"{N(d.WalFilesDeleted)} WAL files, {FleetFormat.Bytes(d.BytesFreed)}");
        Row(grid, "reasons", d.Reasons.Count > 0 ? string.Join(Environment.NewLine, d.Reasons) : "-");
        if (d.Error.Length > 0) grid.AddRow(new Markup("[bold]error[/]"), new Markup($"[red]{Markup.Escape(d.Error)}[/]"));
        return grid;
    }

    public static IRenderable Decisions(string tier, ListRetentionDecisionsResponse response)
    {
        if (response.Decisions.Count == 0) return new Text($"no retention decisions recorded for tier {tier}");
        var table = new Table().Border(TableBorder.Simple).AddColumns("#", "AT (UTC)", "DELETED BACKUPS", "WAL BEFORE", "FREED", "OUTCOME", "REASONS");
        foreach (var d in response.Decisions)
        {
            TextRow(table, N(d.Sequence), Time(d.DecidedAt), d.DeleteBackups.Count > 0 ? string.Join(", ", d.DeleteBackups) : "-", FleetFormat.OrDash(d.WalBefore),
                $"{N(d.WalFilesDeleted)} WAL, {FleetFormat.Bytes(d.BytesFreed)}", d.Error.Length > 0 ? $"error: {d.Error}" : d.CarriedOut ? "carried out" : "-",
                string.Join("; ", d.Reasons));
        }
        return table;
    }

    public static IRenderable Exports(string tier, string tenant, ListTenantExportsResponse response)
    {
        if (response.Exports.Count == 0) return new Text($"no exports of tenant {tenant} on tier {tier}");
        var table = new Table().Border(TableBorder.Simple).AddColumns("ID", "CREATED (UTC)", "SIZE", "TABLES", "ROWS", "BY", "FILE");
        foreach (var e in response.Exports)
            TextRow(table, e.Id, Time(e.CreatedAt), FleetFormat.Bytes(e.Bytes), N(e.Counts.Count), N(e.Counts.Sum(c => c.Rows)), FleetFormat.OrDash(e.Principal), e.File);
        return table;
    }

    public static string RestorePointLine(string tier, RestorePoint p) =>
        $"restore point {p.Name} of tier {tier} at {p.Lsn} on timeline {p.Timeline} ({Time(p.CreatedAt)} UTC); restore to it with: cpctl restore run {tier} --restore-point {p.Name}";

    public static string Status(RestoreStatus s) => s switch
    {
        RestoreStatus.Running => "running",
        RestoreStatus.Ready => "ready",
        RestoreStatus.Failed => "FAILED",
        RestoreStatus.Dropped => "dropped",
        RestoreStatus.Registered => "registered",
        _ => "unknown",
    };

    public static string Into(RestoreInto into) => into == RestoreInto.Standby ? "standby" : "instance";

    private static string Passed(Drill d) => !d.HasPassed ? "[yellow]running[/]" : d.Passed ? "[green]yes[/]" : "[red]NO[/]";

    private static string FailedChecks(Drill d)
    {
        var failed = d.Checks.Where(c => !c.Passed).Select(c => c.Detail.Length > 0 ? $"{c.Name} ({c.Detail})" : c.Name).ToList();
        if (failed.Count == 0 && d.Error.Length > 0) return d.Error;
        return failed.Count > 0 ? string.Join("; ", failed) : "-";
    }
}
