using System.Text.Json;
using System.Text.RegularExpressions;
using ControlPlane.IntegrationTests.Docs;
using Xunit;

namespace ControlPlane.IntegrationTests.Monitoring;

/// <summary>
/// docs/grafana/controlplane.json reads only what the silo exports: every panel query's metric names are looked up
/// on the real /metrics endpoint of the monitoring silo (no Grafana needed).
/// </summary>
[Collection(MonitoringCollection.Name)]
[Trait("Category", "Postgres")]
public sealed partial class GrafanaDashboardTests(MonitoringSiloFixture fixture)
{
    public static readonly string DashboardPath = Path.Combine("docs", "grafana", "controlplane.json");

    /// <summary>Every panel's metric names, read from the dashboard's PromQL (functions and label names are not metrics).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> PanelMetrics(string json)
    {
        using var document = JsonDocument.Parse(json);
        var panels = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var panel in document.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (panel.GetProperty("type").GetString() == "row") continue;
            var title = panel.GetProperty("title").GetString()!;
            var names = panel.GetProperty("targets").EnumerateArray()
                .SelectMany(t => MetricName().Matches(t.GetProperty("expr").GetString()!).Select(m => m.Value))
                .Distinct(StringComparer.Ordinal).ToList();
            panels[title] = names;
        }
        return panels;
    }

    [Fact]
    public async Task Every_panel_of_the_grafana_dashboard_queries_metrics_the_silo_exports()
    {
        var panels = PanelMetrics(await File.ReadAllTextAsync(Path.Combine(RunnableBlocks.RepositoryRoot(), DashboardPath)));
        Assert.True(panels.Count >= 20, $"the dashboard has {panels.Count} panels");
        Assert.All(panels, p => Assert.NotEmpty(p.Value));

        // A partitioned table of its own, so the partition panel has a series whichever test ran first.
        await using (var db = await fixture.OpenPrimaryAsync("mon-dashboard"))
        {
            await MonitoringSiloFixture.ExecuteAsync(db, """
                CREATE TABLE IF NOT EXISTS mon_dashboard_parts (id int NOT NULL) PARTITION BY RANGE (id);
                CREATE TABLE IF NOT EXISTS mon_dashboard_parts_1 PARTITION OF mon_dashboard_parts FOR VALUES FROM (0) TO (1000);
                CREATE TABLE IF NOT EXISTS mon_dashboard_parts_default PARTITION OF mon_dashboard_parts DEFAULT;
                """);
        }
        var wanted = panels.SelectMany(p => p.Value).ToHashSet(StringComparer.Ordinal);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        HashSet<string> missing;
        while (true)
        {
            var exported = (await PrometheusScrape.ReadAsync(fixture.Silo.MetricsEndpoint)).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            missing = wanted.Where(n => !exported.Contains(n)).ToHashSet(StringComparer.Ordinal);
            if (missing.Count == 0 || DateTime.UtcNow > deadline) break;
            await Task.Delay(1000);
        }
        Assert.True(missing.Count == 0, "panels query metrics the silo does not export: "
            + string.Join("; ", panels.Where(p => p.Value.Any(missing.Contains)).Select(p => $"'{p.Key}': {string.Join(", ", p.Value.Where(missing.Contains))}")));
    }

    [GeneratedRegex(@"\bcontrolplane_[a-z0-9_]+\b")]
    private static partial Regex MetricName();
}
