using System.Globalization;
using System.Text;
using ControlPlane.Protos.V1;
using Google.Protobuf.Collections;

namespace ControlPlane.Cli.Hardening;

/// <summary>Pure text views of a security audit: one block per replica, one line per finding, then the trend.</summary>
internal static class HardeningRendering
{
    public static string Audit(SecurityAudit audit, bool all)
    {
        var b = new StringBuilder();
        b.Append(CultureInfo.InvariantCulture,
            $"{(audit.Environment.Length == 0 && audit.Tier == "catalog" ? "catalog" : "tier " + audit.Tier)}: score {audit.Score:0.0} at {audit.AuditedAt?.ToDateTimeOffset():yyyy-MM-dd HH:mm:ss}Z, {audit.FailedHigh} high-severity failure(s)\n");
        foreach (var r in audit.Replicas)
        {
            b.Append(CultureInfo.InvariantCulture,
                $"\n{r.Replica}: score {r.Score:0.0} ({r.Passed} pass, {r.Failed} fail, {r.Unknown} unknown, {r.Accepted} accepted)\n");
            if (r.Error.Length > 0) b.Append(CultureInfo.InvariantCulture, $"  {r.Error}\n");
            var shown = r.Findings.Where(f => all || f.Result != CheckResult.Pass).ToList();
            if (shown.Count == 0) b.Append("  every check passes\n");
            foreach (var f in shown)
            {
                b.Append(CultureInfo.InvariantCulture, $"  {Word(f.Result),-8} {f.Id,-11} {Severity(f.Severity),-6} {f.Title}\n");
                if (f.Result == CheckResult.Pass) continue;
                b.Append(CultureInfo.InvariantCulture, $"           current:  {f.Current}\n           expected: {f.Expected}\n");
                b.Append(f.Result == CheckResult.Accepted
                    ? $"           accepted: {f.AcceptedReason}\n"
                    : $"           fix:      {f.Remediation}\n");
            }
        }
        return b.ToString();
    }

    public static string Trend(RepeatedField<SecurityScorePoint> trend)
    {
        if (trend.Count == 0) return "";
        var b = new StringBuilder("\ntrend (oldest first):\n");
        foreach (var p in trend)
            b.Append(CultureInfo.InvariantCulture, $"  {p.At?.ToDateTimeOffset():yyyy-MM-dd HH:mm}Z  score {p.Score,5:0.0}  failed {p.Failed} (high {p.FailedHigh})\n");
        return b.ToString();
    }

    public static string Word(CheckResult result) => result switch
    {
        CheckResult.Pass => "PASS",
        CheckResult.Fail => "FAIL",
        CheckResult.Accepted => "ACCEPTED",
        _ => "UNKNOWN",
    };

    private static string Severity(CheckSeverity severity) => severity switch
    {
        CheckSeverity.High => "high",
        CheckSeverity.Medium => "medium",
        _ => "low",
    };
}
