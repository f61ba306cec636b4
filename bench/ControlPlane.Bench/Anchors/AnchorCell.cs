using System.Globalization;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Anchors;

/// <summary>One system's figure for one scenario: nearest-rank median, min and max over the trials that produced one (a trial that gave up has none).</summary>
public sealed record AnchorCell(int Trials, int Measured, double? MedianMs, double? MinMs, double? MaxMs)
{
    public static AnchorCell Of(IReadOnlyList<double?> trials)
    {
        ArgumentNullException.ThrowIfNull(trials);
        var ms = trials.Where(t => t is not null).Select(t => t!.Value).Order().ToArray();
        if (ms.Length == 0) return new AnchorCell(trials.Count, 0, null, null, null);
        var ticks = ms.Select(m => (long)Math.Round(m * 1000)).ToArray();
        return new AnchorCell(trials.Count, ms.Length, LatencySummary.Percentile(ticks, 50) / 1000.0, ms[0], ms[^1]);
    }

    /// <summary>"1.49 s (1.27–1.87, 5/5)", or "none of 5" when no trial produced a figure.</summary>
    public string Render() => MedianMs is { } median
        ? string.Create(CultureInfo.InvariantCulture, $"{median / 1000:F2} s ({MinMs!.Value / 1000:F2}–{MaxMs!.Value / 1000:F2}, {Measured}/{Trials})")
        : string.Create(CultureInfo.InvariantCulture, $"none of {Trials}");
}
