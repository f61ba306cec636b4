using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace ControlPlane.Cli.Tenants;

/// <summary>The personal-data catalog and the anonymisation report, for people.</summary>
internal static partial class TenantRendering
{
    public static IRenderable PiiColumns(PiiListResponse response)
    {
        if (response.Columns.Count == 0) return new Markup("no personal-data column declared (cpctl tenant pii suggest TIER)");
        var table = new Table().Border(TableBorder.Simple).AddColumns("TIER", "TABLE", "COLUMN", "KIND", "DECLARED BY");
        foreach (var c in response.Columns) table.AddRow(E(c.Tier), E(c.Table), E(c.Column), E(c.Kind), E(c.DeclaredBy));
        return table;
    }

    public static IRenderable PiiSuggestions(PiiSuggestResponse response)
    {
        if (response.Suggestions.Count == 0) return new Markup("no undeclared column looks personal");
        var table = new Table().Border(TableBorder.Simple).AddColumns("TIER", "TABLE", "COLUMN", "KIND", "TYPE", "WHY", "SCHEMAS");
        foreach (var s in response.Suggestions)
            table.AddRow(E(s.Tier), E(s.Table), E(s.Column), E(s.Kind), E(s.DataType), E(s.Reason), E(string.Join(", ", s.Schemas)));
        return new Rows(table, new Markup("declare the real ones: cpctl tenant pii declare TIER TABLE COLUMN --kind KIND"));
    }

    public static IRenderable Anonymised(TenantAnonymiseReport? report)
    {
        if (report is null) return new Markup("[yellow]no anonymisation report[/]");
        var table = new Table().Border(TableBorder.Simple).AddColumns("TIER", "REPLICA", "COLUMN", "KIND", "ROWS", "UPDATED", "VALUES", "ORIGINALS LEFT");
        foreach (var t in report.Tiers)
        {
            foreach (var c in t.Columns)
            {
                table.AddRow(E(t.Tier), E(t.Replica), E($"{c.Table}.{c.Column}"), E(c.Kind), E(c.Rows.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                    E(c.Updated.ToString(System.Globalization.CultureInfo.InvariantCulture)), E(N(c.Values)),
                    c.Note.Length > 0 ? E(c.Note) : E(c.OriginalsRemaining.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
        }
        var verdict = report.Verified ? "[green]verified: no original value of a declared column remains[/]" : "[red]NOT verified: original values remain[/]";
        return new Rows(new Markup($"anonymise report {E(report.Operation)} {FleetFormat.Time(report.CompletedAt)}: {verdict}, digest {E(report.Digest)}"), table);
    }
}
