using System.Globalization;
using System.Text;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Parity;

/// <summary>Pure text views of parity answers.</summary>
internal static class ParityRendering
{
    public static string Snapshot(SchemaSnapshotInfo s) =>
        string.Create(CultureInfo.InvariantCulture,
            $"snapshot {s.Sequence} of {s.Target}: {s.Objects} objects, sha256 {s.Hash}, {(s.Changed ? "changed" : "unchanged")} since the previous one, taken {Time(s.TakenAt)} by {s.Principal}\n");

    public static string History(ListSnapshotsResponse response)
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture, $"{response.Target}: {response.Total} snapshot(s)\n");
        foreach (var s in response.Snapshots)
        {
            b.Append(CultureInfo.InvariantCulture, $"  @{s.Sequence,-5} {Time(s.TakenAt)}  {s.Hash[..Math.Min(12, s.Hash.Length)]}  {s.Objects,6} objects  {(s.Changed ? "changed  " : "unchanged")}  {s.Principal}\n");
        }
        if (response.NextPageToken.Length > 0) b.Append("  ... older snapshots not shown (--limit)\n");
        return b.ToString();
    }

    public static string Diff(SchemaDiffReport report)
    {
        var b = new StringBuilder();
        if (report.Equal)
        {
            b.Append(CultureInfo.InvariantCulture, $"{report.A} and {report.B} are equal (sha256 {report.AHash})\n");
            return b.ToString();
        }
        b.Append(CultureInfo.InvariantCulture, $"{report.A} -> {report.B}: {report.Differences.Count} difference(s), {report.Statements.Count} statement(s) to reconcile\n");
        foreach (var d in report.Differences) b.Append("  ").Append(d.Text).Append('\n');
        var loss = report.Statements.Count(s => s.DataLoss);
        if (loss > 0) b.Append(CultureInfo.InvariantCulture, $"{loss} statement(s) of the script lose data.\n");
        foreach (var n in report.Notes) b.Append("note: ").Append(n).Append('\n');
        b.Append("(--script prints the SQL that turns A into B)\n");
        return b.ToString();
    }

    public static string Status(ParityStatus status)
    {
        var b = new StringBuilder();
        foreach (var t in status.Tiers) b.Append(Tier(t));
        return b.ToString();
    }

    public static string Tier(TierDrift t)
    {
        var b = new StringBuilder();
        if (t.CheckedAt is null)
        {
            b.Append(CultureInfo.InvariantCulture, $"tier {t.Tier}: not checked yet\n");
            return b.ToString();
        }
        var verdict = t.Error.Length > 0 ? "CHECK FAILED" : !t.TemplateFound ? "NO TEMPLATE" : t.Drift ? "DRIFT" : "in parity";
        b.Append(CultureInfo.InvariantCulture, $"tier {t.Tier}: {verdict}, checked {Time(t.CheckedAt)}{(t.Scheduled ? " (scheduled)" : "")}, template {t.Template}");
        b.Append(t.TemplateFound ? $" ({t.Schemas.Count} tenant schema(s))\n" : " (not in the tier's database)\n");
        if (t.Error.Length > 0) b.Append("  error: ").Append(t.Error).Append('\n');
        foreach (var s in t.Schemas)
        {
            if (s.Error.Length > 0) b.Append(CultureInfo.InvariantCulture, $"  ERROR  {s.Schema}: {s.Error}\n");
            else if (s.Differences == 0) b.Append(CultureInfo.InvariantCulture, $"  ok     {s.Schema}\n");
            else
            {
                b.Append(CultureInfo.InvariantCulture, $"  DRIFT  {s.Schema}: {s.Differences} difference(s) from {t.Template}\n");
                foreach (var line in s.Summary) b.Append("           ").Append(line).Append('\n');
            }
        }
        return b.ToString();
    }

    private static string Time(Google.Protobuf.WellKnownTypes.Timestamp? at) =>
        at is null ? "-" : at.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
