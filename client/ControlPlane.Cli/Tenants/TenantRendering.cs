using System.Globalization;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ControlPlane.Cli.Tenants;

/// <summary>Human views of tenants. Everything shown is escaped: names and reasons come from users.</summary>
internal static partial class TenantRendering
{
    private const int HistoryShown = 15;

    public static IRenderable Tenant(TenantInfo t)
    {
        var rows = new List<IRenderable>
        {
            new Markup($"tenant [bold]{E(t.Name)}[/] ({E(t.Environment)}): {StateMarkup(t.State)}, registered {FleetFormat.Time(t.CreatedAt)}, version {t.Version}"),
        };
        if (t.Placements.Count > 0)
        {
            var placements = new Table().Border(TableBorder.Simple).AddColumns("TIER", "PLACEMENT", "ROLE", "PASSWORD FILE");
            foreach (var p in t.Placements) placements.AddRow(E(p.Tier), Kind(p.Kind), E(p.Role), E(p.PasswordFile));
            rows.Add(placements);
        }
        if (t.Plans.Count > 0)
        {
            var plans = new Table().Border(TableBorder.Simple).AddColumns("TIER", "WEIGHT", "MIN", "MAX");
            foreach (var p in t.Plans) plans.AddRow(E(p.Tier), N(p.Weight), N(p.Min), N(p.Max));
            rows.Add(plans);
        }
        if (t.Operation is { } op) rows.Add(new Markup(E(OperationLine(op))));
        if (t.EraseReport is { } report) rows.Add(Report(report));
        if (t.Probe is { } probe) rows.Add(Probe(probe));
        if (t.AnonymiseReport is { } anonymised) rows.Add(Anonymised(anonymised));
        foreach (var audit in t.Audits) rows.Add(Findings($"isolation audit of {E(audit.Tier)} {FleetFormat.Time(audit.At)}", audit.Findings, withFix: false));
        if (t.History.Count > 0)
        {
            var history = new Table().Border(TableBorder.Simple).AddColumns("AT (UTC)", "STATE", "EVENT", "BY");
            foreach (var h in t.History.TakeLast(HistoryShown)) history.AddRow(FleetFormat.Time(h.At), State(h.State), E(h.Event), E(h.Principal));
            rows.Add(history);
        }
        return new Rows(rows);
    }

    public static IRenderable List(TenantListResponse response)
    {
        if (response.Tenants.Count == 0) return new Text("no tenants registered");
        var table = new Table().Border(TableBorder.Simple).AddColumns("TENANT", "STATE", "PLACEMENTS", "PLANS (TIER W/MIN/MAX)");
        foreach (var t in response.Tenants)
        {
            table.AddRow(E(t.Name), StateMarkup(t.State),
                E(string.Join("  ", t.Placements.Select(p => $"{p.Tier}:{Kind(p.Kind)}"))),
                E(string.Join("  ", t.Plans.Select(p => $"{p.Tier} {p.Weight}/{p.Min}/{p.Max}"))));
        }
        return table;
    }

    public static string WatchLine(TenantInfo t)
    {
        var last = t.History.Count > 0 ? t.History[^1].Event : "";
        return $"{FleetFormat.Time(Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow))} {E(t.Name)} v{t.Version} {StateMarkup(t.State)} {E(last)}";
    }

    public static IRenderable Probe(TenantProbe probe)
    {
        var verdict = probe.Leaks == 0 ? "[green]no leak[/]" : $"[red]{probe.Leaks} LEAK(S)[/]";
        var rows = new List<IRenderable> { new Markup($"cross-tenant probe {FleetFormat.Time(probe.At)}: {probe.Findings.Count} attempt(s), {verdict}") };
        if (probe.Findings.Count > 0)
        {
            var table = new Table().Border(TableBorder.Simple).AddColumns("TIER", "TARGET", "ATTEMPT", "RESULT");
            foreach (var f in probe.Findings) table.AddRow(E(f.Tier), E(f.Target), E(f.Attempt), f.Leaked ? $"[red]{E(f.Detail)}[/]" : E(f.Detail));
            rows.Add(table);
        }
        rows.AddRange(probe.Skipped.Select(s => new Markup("skipped " + E(s))));
        return new Rows(rows);
    }

    public static IRenderable Audit(TenantAuditResponse response)
    {
        var scope = response.Tenant.Length > 0 ? $" for tenant {E(response.Tenant)}" : "";
        var head = $"isolation audit of {E(response.Tier)}{scope} {FleetFormat.Time(response.At)} on {E(response.Replica)}: {response.Tenants} tenant(s), {response.Objects} object(s) in {response.TookMs} ms";
        return Findings(head, response.Findings, withFix: true);
    }

    private static IRenderable Findings(string head, IReadOnlyCollection<IsolationFinding> findings, bool withFix)
    {
        var critical = findings.Count(f => f.Severity == "critical");
        var verdict = findings.Count == 0 ? "[green]no finding[/]" : critical > 0 ? $"[red]{findings.Count} finding(s), {critical} CRITICAL[/]" : $"[yellow]{findings.Count} finding(s)[/]";
        var rows = new List<IRenderable> { new Markup($"{head}: {verdict}") };
        if (findings.Count == 0) return new Rows(rows);
        var table = new Table().Border(TableBorder.Simple).AddColumns("SEVERITY", "RULE", "TENANT", "OBJECT", "WHY");
        if (withFix) table.AddColumn("FIX");
        foreach (var f in findings)
        {
            var severity = f.Severity == "critical" ? "[red]critical[/]" : f.Severity == "high" ? "[yellow]high[/]" : E(f.Severity);
            var cells = new List<string> { severity, E(f.Rule), E(f.Tenant.Length > 0 ? f.Tenant : "(all)"), E(f.Object), E(f.Explanation) };
            if (withFix) cells.Add(E(f.Fix));
            table.AddRow([.. cells]);
        }
        rows.Add(table);
        return new Rows(rows);
    }

    private static IRenderable Report(TenantEraseReport report)
    {
        var table = new Table().Border(TableBorder.Simple).AddColumns("TIER", "REPLICA", "REMOVED", "ROWS BEFORE -> AFTER", "LEFT");
        foreach (var t in report.Tiers)
        {
            table.AddRow(E(t.Tier), E(t.Replica), E(string.Join("; ", t.Removed)),
                E(string.Join("; ", t.Rows.Select(r => $"{r.Table} {r.Before} -> {r.After}"))),
                E($"schema {(t.SchemaRemains ? "yes" : "no")}, role {(t.RoleRemains ? "yes" : "no")}, rows {t.RowsRemaining}"));
        }
        var verdict = report.Verified ? "[green]verified: nothing of the tenant remains[/]" : "[red]NOT verified: something of the tenant remains[/]";
        return new Rows(new Markup($"erase report {FleetFormat.Time(report.CompletedAt)}: {verdict}, digest {E(report.Digest)}"), table);
    }

    private static string OperationLine(TenantOperation op)
    {
        var progress = op.Next >= op.Steps.Count ? "done" : $"at step {op.Next + 1} of {op.Steps.Count} ({op.Steps[op.Next].Kind}{(op.Steps[op.Next].Tier.Length > 0 ? " on " + op.Steps[op.Next].Tier : "")})";
        var error = op.LastError.Length > 0 ? $"; last error (attempt {op.Attempts}): {op.LastError}" : "";
        return $"operation {op.Id}: {op.Command} by {op.Principal}, {progress}{error}";
    }

    internal static string State(TenantState state) => state switch
    {
        TenantState.Unspecified => "unknown",
        _ => state.ToString().ToLowerInvariant(),
    };

    private static string StateMarkup(TenantState state) => state switch
    {
        TenantState.Active => "[green]active[/]",
        TenantState.Suspended => "[yellow]suspended[/]",
        TenantState.Erased => "[grey]erased[/]",
        _ => $"[blue]{State(state)}[/]",
    };

    private static string Kind(PlacementKind kind) => kind == PlacementKind.Shared ? "shared" : "schema";

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string E(string text) => Markup.Escape(text);
}
