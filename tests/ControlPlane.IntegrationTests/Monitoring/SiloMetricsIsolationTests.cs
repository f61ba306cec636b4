using ControlPlane.Grains.Telemetry;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace ControlPlane.IntegrationTests.Monitoring;

/// <summary>
/// Two silos in one process each export only their own series, and one stopping leaves the other's /metrics whole.
/// Before meters came from each host's IMeterFactory, a second silo's meters of the same names shared the first
/// silo's metric streams; when the second stopped, every controlplane_* family vanished from the first silo's
/// /metrics (found by a CI run in which the monitoring silo exported nothing after another collection's silo ended).
/// </summary>
[Collection(MonitoringCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class SiloMetricsIsolationTests(MonitoringSiloFixture fixture)
{
    private const string TierHealth = "controlplane_tier_health";
    private const string CatalogUp = "controlplane_catalog_up";

    [Fact]
    public async Task A_second_silo_in_the_process_neither_exports_the_firsts_series_nor_takes_them_away_when_it_stops()
    {
        var tempFiles = ReadingMetrics.PrometheusName(Grains.Monitoring.MonitoringMetrics.TempFiles);
        await WaitUntilExportedAsync(fixture.Silo, TierHealth, tempFiles);

        var root = Path.Combine(Path.GetTempPath(), "cp-meters-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var second = await ControlPlaneHost.StartAsync(
                ["--data-dir", Path.Combine(root, "data"), "--grpc-port", TestPorts.Reserve().ToString(), "--metrics-port", TestPorts.Reserve().ToString(), "--fleet", "none"],
                configure: null, new StringWriter(), CancellationToken.None);
            await using (second)
            {
                // The second silo's own fleet gauges exist (it hosts no tier, so they carry no series).
                second.Services.GetRequiredService<FleetMetrics>();
                var theirs = await ReadAsync(second);
                Assert.Contains(theirs, s => s.Name == CatalogUp);
                Assert.DoesNotContain(theirs, s => s.Name == TierHealth);
            }

            var ours = await ReadAsync(fixture.Silo);
            Assert.Contains(ours, s => s.Name == TierHealth && s.Labels.GetValueOrDefault("tier") == MonitoringSiloFixture.TierName);
            Assert.Contains(ours, s => s.Name == CatalogUp);
            Assert.Contains(ours, s => s.Name == tempFiles);
        }
        finally
        {
            TestDirectory.DeleteQuietly(root);
        }
    }

    private static async Task WaitUntilExportedAsync(RunningSilo silo, params string[] names)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            var exported = (await ReadAsync(silo)).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            var missing = names.Where(n => !exported.Contains(n)).ToList();
            if (missing.Count == 0) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the monitoring silo does not export {string.Join(", ", missing)}");
            await Task.Delay(500);
        }
    }

    private static Task<IReadOnlyList<ScrapedSample>> ReadAsync(RunningSilo silo) => PrometheusScrape.ReadAsync(silo.MetricsEndpoint);
}
