using System.Globalization;
using System.Text;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Anchors;

/// <summary>One trial: the fault, what it measured (ms from the fault to the first acknowledged write), where writes were before and after, and why there is no figure when there is none.</summary>
public sealed record AnchorTrial(string System, string Scenario, int Trial, double? Ms, string OldPrimary, string NewPrimary, string Load, string Note);

/// <summary>One system's run of short stalls: how many, how long, and how many times writes moved to another node (false failovers).</summary>
public sealed record AnchorStalls(string System, int Stalls, double StallSeconds, int Failovers, string Note);

/// <summary>One system's part of the run.</summary>
public sealed record AnchorSystemResult(string System, string Settings, string LoadBefore, string LoadAfter, string? Error,
    IReadOnlyList<AnchorTrial> Trials, AnchorStalls? Stalls)
{
    public AnchorCell Cell(string scenario) => AnchorCell.Of(Trials.Where(t => t.Scenario == scenario).Select(t => t.Ms).ToList());
}

/// <summary>The whole side-by-side run: one column per system, one row per scenario.</summary>
public sealed record AnchorsResult(MachineInfo Machine, string LoadBefore, string LoadAfter, IReadOnlyList<AnchorSystemResult> Systems)
{
    public static readonly IReadOnlyList<(string Key, string Title)> Scenarios =
    [
        ("kill-postmaster", "(a) primary postmaster SIGKILL → first acknowledged write"),
        ("stop-postmaster", "(b) primary postmaster SIGSTOP (no new sessions) → first write by a new session"),
        ("node-loss", "(d) node loss: agent + PostgreSQL SIGKILL → first acknowledged write elsewhere"),
        ("consensus-and-node", "(e) etcd leader member + primary node SIGKILL → first acknowledged write elsewhere"),
        ("disk-full", "(f) the primary's data disk full → first acknowledged write elsewhere"),
        ("crash-loop", "(g) the primary crashing every few seconds (checkpointer SIGKILL) → first acknowledged write elsewhere"),
    ];

    public string Render()
    {
        var b = new StringBuilder();
        b.AppendLine(CultureInfo.InvariantCulture, $"failover-anchors on {Machine.Host} ({Machine.Processors} CPUs), {Machine.At:yyyy-MM-dd HH:mm} UTC; load {LoadBefore} -> {LoadAfter}");
        foreach (var s in Systems) b.AppendLine(CultureInfo.InvariantCulture, $"  {s.System}: {s.Settings}; load {s.LoadBefore} -> {s.LoadAfter}{(s.Error is null ? "" : $"; ERROR {s.Error}")}");
        b.AppendLine();
        b.AppendLine("median (min–max, trials with a figure / trials)");
        b.AppendLine();
        b.AppendLine("| scenario | " + string.Join(" | ", Systems.Select(s => s.System)) + " |");
        b.AppendLine("|---|" + string.Concat(Systems.Select(_ => "---|")));
        foreach (var (key, title) in Scenarios)
        {
            b.AppendLine($"| {title} | " + string.Join(" | ", Systems.Select(s => s.Trials.Any(t => t.Scenario == key) ? s.Cell(key).Render() : "not run")) + " |");
        }
        b.AppendLine("| (c) short stalls: SIGSTOP of every primary process → false failovers | "
            + string.Join(" | ", Systems.Select(s => s.Stalls is { } st ? string.Create(CultureInfo.InvariantCulture, $"{st.Failovers} of {st.Stalls} × {st.StallSeconds:0.#} s") : "not run")) + " |");
        foreach (var s in Systems)
        {
            b.AppendLine();
            b.AppendLine(CultureInfo.InvariantCulture, $"{s.System}:");
            foreach (var t in s.Trials)
            {
                var ms = t.Ms is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v / 1000:F2} s") : "—";
                b.AppendLine(CultureInfo.InvariantCulture, $"  {t.Scenario} #{t.Trial}: {ms}  {t.OldPrimary}->{t.NewPrimary}  load {t.Load}  {t.Note}");
            }
            if (s.Stalls is { } st) b.AppendLine(CultureInfo.InvariantCulture, $"  stalls: {st.Failovers} failovers in {st.Stalls} × {st.StallSeconds:0.#} s  {st.Note}");
        }
        return b.ToString();
    }
}
