using System.Globalization;
using System.Text;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Failover;

/// <summary>One trial: what it measured (ms), or why it has no figure.</summary>
public sealed record FailoverTrial(int Trial, double? Ms, long TermBefore, long TermAfter, string OldPrimary, string NewPrimary, string Note);

/// <summary>Median, p95 (nearest rank), min and max of one scenario's trials that produced a figure.</summary>
public sealed record ScenarioSummary(string Scenario, string Measures, int Trials, int Measured, double? MedianMs, double? P95Ms, double? MinMs, double? MaxMs, double TargetMs)
{
    public static ScenarioSummary Of(string scenario, string measures, double targetMs, IReadOnlyList<FailoverTrial> trials)
    {
        var ms = trials.Where(t => t.Ms is not null).Select(t => t.Ms!.Value).Order().ToArray();
        if (ms.Length == 0) return new ScenarioSummary(scenario, measures, trials.Count, 0, null, null, null, null, targetMs);
        var ticks = ms.Select(m => (long)Math.Round(m * 1000)).ToArray();
        return new ScenarioSummary(scenario, measures, trials.Count, ms.Length,
            LatencySummary.Percentile(ticks, 50) / 1000.0, LatencySummary.Percentile(ticks, 95) / 1000.0, ms[0], ms[^1], targetMs);
    }
}

/// <summary>The whole run: per-scenario trials and summaries, the false-failover count, the machine and its load.</summary>
public sealed record FailoverResult(
    MachineInfo Machine, string LoadBefore, string LoadAfter, string Settings,
    IReadOnlyList<ScenarioSummary> Summaries, IReadOnlyDictionary<string, IReadOnlyList<FailoverTrial>> Trials,
    IReadOnlyList<StallSummary> Stalls)
{
    public int ShortPauses => Stalls.Sum(s => s.Stalls);

    public int FalseFailovers => Stalls.Sum(s => s.Failovers);

    public string Render()
    {
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"failover benchmark on {Machine.Host} ({Machine.Processors} CPUs), {Machine.At:yyyy-MM-dd HH:mm} UTC; load {LoadBefore} -> {LoadAfter}");
        b.AppendLine(CultureInfo.InvariantCulture, $"tier settings: {Settings}");
        if (Summaries.Count > 0)
        {
            b.AppendLine();
            b.AppendLine("| scenario | measures | trials | median | p95 | min | max | target |");
            b.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var s in Summaries)
            {
                b.AppendLine(CultureInfo.InvariantCulture,
                    $"| {s.Scenario} | {s.Measures} | {s.Measured}/{s.Trials} | {F(s.MedianMs)} | {F(s.P95Ms)} | {F(s.MinMs)} | {F(s.MaxMs)} | ≤ {s.TargetMs / 1000:0.#} s (median) |");
            }
        }
        if (Stalls.Count > 0)
        {
            b.AppendLine();
            b.AppendLine("| stall | length | stalls | false failovers | alert decisions |");
            b.AppendLine("|---|---|---|---|---|");
            foreach (var s in Stalls)
            {
                var length = s.Kind == "checkpoint" ? $"CHECKPOINT took {F(s.LengthMs)} (median)" : F(s.LengthMs);
                b.AppendLine(CultureInfo.InvariantCulture, $"| {s.Kind} | {length} | {s.Stalls} | {s.Failovers} | {s.Alerts} |");
            }
        }
        foreach (var (scenario, trials) in Trials)
        {
            b.AppendLine();
            b.AppendLine(CultureInfo.InvariantCulture, $"{scenario}:");
            foreach (var t in trials)
            {
                b.AppendLine(CultureInfo.InvariantCulture, $"  #{t.Trial}: {F(t.Ms)}  term {t.TermBefore}->{t.TermAfter}  {t.OldPrimary}->{t.NewPrimary}  {t.Note}");
            }
        }
        return b.ToString();
    }

    private static string F(double? ms) => ms is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v / 1000:F2} s") : "—";
}
