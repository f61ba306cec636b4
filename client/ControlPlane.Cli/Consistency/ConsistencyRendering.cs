using System.Globalization;
using System.Text;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Consistency;

/// <summary>Pure text view of a consistency report: the verdict, one line per table and standby, the narrowed ranges.</summary>
internal static class ConsistencyRendering
{
    public static string Report(ConsistencyReport report)
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture,
            $"tier {report.Tier}: {(report.Consistent ? "CONSISTENT" : "MISMATCH")} at LSN {report.Lsn} (primary {report.Primary}), {report.RowsCompared} rows compared in {report.Duration?.ToTimeSpan().TotalSeconds:0.0} s, {report.CheckedAt?.ToDateTimeOffset():yyyy-MM-dd HH:mm:ss}Z{(report.Scheduled ? " (scheduled)" : "")}\n");
        foreach (var s in report.Standbys)
        {
            b.Append(s.Error.Length == 0
                ? $"  standby {s.Replica}: snapshot at {s.ReplayLsn}\n"
                : $"  standby {s.Replica}: NOT COMPARED: {s.Error}\n");
        }
        foreach (var t in report.Tables)
        {
            var mode = t.Mode switch
            {
                ConsistencyTableMode.KeyRanges => $"{t.Chunks} chunks",
                ConsistencyTableMode.WholeTable => "whole table",
                _ => "whole table, no primary key",
            };
            b.Append(CultureInfo.InvariantCulture, $"\n{(t.Consistent ? "ok      " : "MISMATCH")} {t.Table} ({mode}): primary {t.Primary.Rows} rows {t.Primary.Checksum}\n");
            foreach (var s in t.Standbys) b.Append(CultureInfo.InvariantCulture, $"           {s.Replica}: {s.Rows} rows {s.Checksum}\n");
            foreach (var m in t.Mismatches)
            {
                b.Append(CultureInfo.InvariantCulture, $"           differs on {m.Replica} in key range {m.Range}: primary {m.PrimaryRows} rows, standby {m.ReplicaRows} rows\n");
            }
        }
        foreach (var p in report.Pairs)
        {
            b.Append(p.Error.Length > 0
                ? $"\nERROR    pair {p.Name}: {p.Error}\n"
                : $"\n{(p.Equal ? "ok      " : "MISMATCH")} pair {p.Name}: {p.LeftTier}={p.Left} {p.RightTier}={p.Right}\n");
        }
        foreach (var w in report.Warnings) b.Append(CultureInfo.InvariantCulture, $"\nwarning: {w}\n");
        return b.ToString();
    }
}
