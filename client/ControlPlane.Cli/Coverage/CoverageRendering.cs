using System.Globalization;
using System.Text;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Coverage;

/// <summary>Pure text view of coverage: the areas over the tiers (the review's table, measured), then each tier's items.</summary>
internal static class CoverageRendering
{
    public static string Coverage(ControlPlane.Protos.V1.Coverage coverage, bool all)
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture,
            $"coverage of {coverage.Environment}: {coverage.Percent:0.0} % at {coverage.EvaluatedAt?.ToDateTimeOffset():yyyy-MM-dd HH:mm:ss}Z\n\n");
        b.Append(CultureInfo.InvariantCulture, $"{"AREA",-24} {"COVERED",8} {"FAILING",8} {"STALE",6}\n");
        foreach (var a in coverage.Areas)
        {
            var percent = a.Available ? $"{a.Percent:0.0} %" : "n/a";
            b.Append(CultureInfo.InvariantCulture, $"{a.Title,-24} {percent,8} {a.Failing,8} {a.Stale,6}\n");
        }
        foreach (var tier in coverage.Tiers)
        {
            b.Append(CultureInfo.InvariantCulture, $"\ntier {tier.Tier}: {tier.Percent:0.0} %\n");
            foreach (var area in tier.Areas)
            {
                var shown = area.Items.Where(i => all || i.State is not (EvidenceState.Configured or EvidenceState.Passing)).ToList();
                if (shown.Count == 0) continue;
                b.Append(CultureInfo.InvariantCulture, $"  {area.Title} ({area.Percent:0.0} %)\n");
                foreach (var item in shown)
                {
                    b.Append(CultureInfo.InvariantCulture, $"    {Word(item.State),-13} {item.Id,-24} {item.Reason}\n");
                    if (item.Fix.Length > 0 && item.State is EvidenceState.Stale or EvidenceState.Failing)
                        b.Append(CultureInfo.InvariantCulture, $"    {"",-13} {"",-24} fix: {item.Fix}\n");
                }
            }
        }
        return b.ToString();
    }

    public static string Word(EvidenceState state) => state switch
    {
        EvidenceState.Configured => "CONFIGURED",
        EvidenceState.Passing => "PASSING",
        EvidenceState.Stale => "STALE",
        EvidenceState.Failing => "FAILING",
        _ => "NOT AVAILABLE",
    };
}
