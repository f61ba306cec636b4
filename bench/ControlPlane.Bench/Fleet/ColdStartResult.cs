using System.Globalization;
using System.Text;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Fleet;

/// <summary>
/// One silo start: seconds from launch to the first gRPC answer, to ListTiers first reporting all healthy (possibly
/// the previous run's persisted state), and to the whole fleet healthy on this run's own probes (the figure).
/// </summary>
public sealed record SiloStart(
    int Trial, string Kind, double? GatewayUpSeconds, double? ReportedHealthySeconds, double? HealthySeconds, SiloStop? Stop,
    int LogWarnings, int LogErrors, string LogFile, string? Problem);

/// <summary>Everything a coldstart run measured.</summary>
public sealed record ColdStartResult(
    string Benchmark,
    string Silo,
    string DataDirectory,
    int Trials,
    MachineInfo Machine,
    string LoadBefore,
    string LoadAfter,
    IReadOnlyList<SiloStart> Starts,
    double? FirstStartMedianSeconds,
    double? RestartMedianSeconds,
    double? StopMedianSeconds)
{
    public bool AllHealthy => Starts.Count > 0 && Starts.All(s => s.HealthySeconds is not null);

    public static double? Median(IEnumerable<double?> values)
    {
        var sorted = values.Where(v => v is not null).Select(v => v!.Value).Order().ToArray();
        if (sorted.Length == 0) return null;
        var mid = sorted.Length / 2;
        return Math.Round(sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2, 3);
    }

    public string Render()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"coldstart  silo {Silo}  data {DataDirectory}  trials {Trials}");
        text.AppendLine("  trial  kind      gateway up  reported healthy  probed healthy  stop (SIGTERM)  log warn/fail");
        foreach (var s in Starts)
        {
            text.AppendLine(c, $"  {s.Trial,5}  {s.Kind,-8}  {S(s.GatewayUpSeconds),10}  {S(s.ReportedHealthySeconds),16}  {S(s.HealthySeconds),14}  {S(s.Stop?.Seconds),14}  {s.LogWarnings,4}/{s.LogErrors}{(s.Problem is null ? "" : "  " + s.Problem)}");
        }
        text.AppendLine(c, $"  median first start {S(FirstStartMedianSeconds)}  restart {S(RestartMedianSeconds)}  stop {S(StopMedianSeconds)}");
        text.Append(c, $"  load avg before {LoadBefore}  after {LoadAfter}  ({Machine.Processors} cpus)");
        return text.ToString();
    }

    private static string S(double? seconds) => seconds is { } v ? v.ToString("F2", CultureInfo.InvariantCulture) + "s" : "-";
}
