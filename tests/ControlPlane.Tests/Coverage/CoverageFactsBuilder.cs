using ControlPlane.Grains.Coverage;

namespace ControlPlane.Tests.Coverage;

/// <summary>Facts of a well-run tier, every available item covered; tests change one fact and read one item.</summary>
internal static class CoverageFactsBuilder
{
    public static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    public static TierCoverageFacts Healthy() => new(
        "local", "oltp", Now,
        new HaFacts(2, 2, true, true, false, Now.AddDays(-3), true, "switchover oltp-1 -> oltp-2 (term 4)"),
        new PoolFacts(Now.AddSeconds(-5), 90, 40, [], 0, []),
        new BackupFacts("0 3 * * *", "0 5 * * 0", true, TimeSpan.FromHours(26), TimeSpan.FromDays(7.1), Now.AddHours(-9), "20261206T030000Z-4", "",
            new DrillFact("d3", Now.AddDays(-1), true, TimeSpan.FromSeconds(12), ""), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(1),
            Now.AddSeconds(-2), TimeSpan.Zero, true, ""),
        new ChangeFacts(1, 2, [], [], [], Now.AddDays(-10)),
        new TenantFacts([new TenantProbeFact("acme", Now.AddDays(-1), 0), new TenantProbeFact("globex", Now.AddDays(-2), 0)]),
        new MonitoringFacts(new Dictionary<string, DateTimeOffset?> { ["oltp-1"] = Now.AddSeconds(-10), ["oltp-2"] = Now.AddSeconds(-12) }, 11, []),
        new HardeningFacts(Now.AddMinutes(-30), 96.5, [], TimeSpan.FromHours(2)),
        new GatewayFacts(true, false, true),
        new ParityFacts(new Dictionary<string, string?> { ["oltp-1"] = "15.10", ["oltp-2"] = "15.10" }),
        new CapacityFacts(Now.AddMinutes(-1), 3, "database_bytes", 120, true, 14),
        new IntegrationFacts(Now.AddHours(-3), true, "4 table(s), 1000 rows equal on 2 standby(s)", Now.AddDays(-2), true, ""));

    public static EvidenceItem Item(TierCoverageFacts facts, string id) =>
        CoverageRules.Evaluate(facts, new CoverageThresholds()).Areas.SelectMany(a => a.Items).Single(i => i.Id == id);

    public static AreaCoverage Area(TierCoverageFacts facts, CoverageArea area) =>
        CoverageRules.Evaluate(facts, new CoverageThresholds()).Areas.Single(a => a.Area == area);
}
