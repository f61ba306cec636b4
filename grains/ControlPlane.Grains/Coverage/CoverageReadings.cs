using ControlPlane.Grains.Monitoring;

namespace ControlPlane.Grains.Coverage;

/// <summary>
/// Coverage as readings for the alert engine: one <c>coverage_failing_items</c> per tier and area, so the
/// CoverageAreaDegraded rule fires when an area gains a failing item and resolves when the item passes again.
/// Every area is reported, zero included: a reading that no longer breaches is what resolves an alert.
/// </summary>
public static class CoverageReadings
{
    public static IReadOnlyList<MetricObservation> Of(CoverageReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return report.Tiers.SelectMany(t => t.Areas.Select(a => new MetricObservation(
            MonitoringMetrics.CoverageFailingItems,
            new Dictionary<string, string>(StringComparer.Ordinal) { ["environment"] = report.Environment, ["tier"] = t.Tier, ["area"] = a.Area.Id },
            a.Failing,
            report.EvaluatedAt))).ToList();
    }
}

/// <summary>How old a scheduled job's newest success may be: one period of its cron schedule plus slack.</summary>
public static class SchedulePeriod
{
    public static readonly TimeSpan Slack = TimeSpan.FromHours(2);

    /// <summary>The period between the next two occurrences of <paramref name="cron"/> after <paramref name="now"/>, plus
    /// <see cref="Slack"/>; <paramref name="fallback"/> when the schedule is empty or unreadable.</summary>
    public static TimeSpan MaxAge(string cron, DateTimeOffset now, TimeSpan fallback)
    {
        if (string.IsNullOrWhiteSpace(cron)) return fallback;
        try
        {
            var expression = Cronos.CronExpression.Parse(cron, Cronos.CronFormat.Standard);
            var first = expression.GetNextOccurrence(now.UtcDateTime);
            var second = first is { } f ? expression.GetNextOccurrence(f) : null;
            return first is { } a && second is { } b ? b - a + Slack : fallback;
        }
        catch (Cronos.CronFormatException)
        {
            return fallback;
        }
    }
}
