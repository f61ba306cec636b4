using ControlPlane.Grains.Monitoring;

namespace ControlPlane.Grains.Consistency;

/// <summary>
/// What a consistency report tells the alert engine, pure. One reading per differing (table, standby), labelled with
/// the table and the key ranges, and one per disagreeing cross-tier pair; a label set reported breached before and
/// not breached now (of a table or pair this check covered) reads 0, so its alert resolves.
/// </summary>
public static class ConsistencyAlerts
{
    /// <summary>How many ranges the <c>ranges</c> label lists before "and N more".</summary>
    public const int RangesInLabel = 5;

    public static (IReadOnlyList<MetricObservation> Readings, List<Dictionary<string, string>> Breached) Readings(
        ConsistencyReport report, IReadOnlyList<Dictionary<string, string>> alerted, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(alerted);
        var breached = new List<Dictionary<string, string>>();
        var readings = new List<MetricObservation>();
        foreach (var table in report.Tables)
        {
            foreach (var group in table.Mismatches.GroupBy(m => m.Replica))
            {
                var labels = new Dictionary<string, string>(StringComparer.Ordinal)
                {
                    ["tier"] = report.Tier,
                    ["table"] = table.Table,
                    ["replica"] = group.Key,
                    ["ranges"] = RangesLabel(group.Select(m => m.Range).ToList()),
                };
                breached.Add(labels);
                readings.Add(new MetricObservation(MonitoringMetrics.ConsistencyMismatchedRanges, labels, group.Count(), now));
            }
        }
        foreach (var pair in report.Pairs.Where(p => !p.Equal && p.Error.Length == 0))
        {
            var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["tier"] = report.Tier, ["pair"] = pair.Name };
            breached.Add(labels);
            readings.Add(new MetricObservation(MonitoringMetrics.ConsistencyMismatchedRanges, labels, 1, now));
        }
        var covered = report.Tables.Select(t => t.Table).Concat(report.Pairs.Select(p => p.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (var old in alerted)
        {
            var subject = old.TryGetValue("table", out var t) ? t : old.TryGetValue("pair", out var p) ? p : "";
            if (!covered.Contains(subject) || breached.Any(b => Same(b, old))) continue;
            readings.Add(new MetricObservation(MonitoringMetrics.ConsistencyMismatchedRanges, old, 0, now));
        }
        // Label sets of tables this check did not cover stay as they were: their alerts stand until a check covers them.
        breached.AddRange(alerted.Where(old => !covered.Contains(old.TryGetValue("table", out var t) ? t : old.TryGetValue("pair", out var p) ? p : "")));
        return (readings, breached);
    }

    public static string RangesLabel(IReadOnlyList<string> ranges) =>
        ranges.Count <= RangesInLabel ? string.Join(" ", ranges) : $"{string.Join(" ", ranges.Take(RangesInLabel))} and {ranges.Count - RangesInLabel} more";

    private static bool Same(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);
}
