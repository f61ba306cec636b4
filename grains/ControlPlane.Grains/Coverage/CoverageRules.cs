using System.Globalization;

namespace ControlPlane.Grains.Coverage;

/// <summary>
/// The evidence rules: facts of one tier in, the state of every evidence item of the eleven areas out. Pure, so each
/// area's rules are unit-tested with fixed facts (tests/ControlPlane.Tests/Coverage). A rule names the command that
/// raises its item; commands use the tier's real name so they can be pasted.
/// </summary>
public static partial class CoverageRules
{
    public static TierCoverage Evaluate(TierCoverageFacts facts, CoverageThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(thresholds);
        return new TierCoverage(facts.Tier,
        [
            new(CoverageAreas.ConnectionPooling, Pooling(facts, thresholds)),
            new(CoverageAreas.BackupRecovery, Backups(facts)),
            new(CoverageAreas.Migrations, Migrations(facts)),
            new(CoverageAreas.EnvironmentParity, Parity(facts)),
            new(CoverageAreas.TenantIsolation, Isolation(facts, thresholds)),
            new(CoverageAreas.PerformanceMonitoring, Monitoring(facts, thresholds)),
            new(CoverageAreas.SecurityHardening, Security(facts)),
            new(CoverageAreas.HighAvailability, Availability(facts, thresholds)),
            new(CoverageAreas.ChangeManagement, ChangeManagement(facts, thresholds)),
            new(CoverageAreas.CapacityPlanning, Capacity(facts, thresholds)),
            new(CoverageAreas.IntegrationTesting, IntegrationTesting(facts, thresholds)),
        ]);
    }

    /// <summary>Whole coverage of an environment from the facts of each of its tiers.</summary>
    public static CoverageReport Evaluate(string environment, DateTimeOffset at, IEnumerable<TierCoverageFacts> tiers, CoverageThresholds thresholds) =>
        new(environment, at, tiers.Select(t => Evaluate(t, thresholds)).ToList());

    private static EvidenceItem Item(string id, string title, EvidenceState state, string reason, string fix = "") => new(id, title, state, reason, fix);

    /// <summary>"4m ago", "3h ago", "2d ago": precise enough for a reason, stable enough for a test.</summary>
    internal static string Ago(DateTimeOffset now, DateTimeOffset at)
    {
        var age = now - at;
        if (age < TimeSpan.Zero) age = TimeSpan.Zero;
        return Span(age) + " ago";
    }

    internal static string Span(TimeSpan span) => span.TotalDays >= 1
        ? ((int)span.TotalDays).ToString(CultureInfo.InvariantCulture) + "d"
        : span.TotalHours >= 1
            ? ((int)span.TotalHours).ToString(CultureInfo.InvariantCulture) + "h"
            : span.TotalMinutes >= 1
                ? ((int)span.TotalMinutes).ToString(CultureInfo.InvariantCulture) + "m"
                : ((int)span.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";

    private static string List(IReadOnlyList<string> values, int max = 3) =>
        values.Count <= max ? string.Join(", ", values) : string.Join(", ", values.Take(max)) + $" and {values.Count - max} more";
}
