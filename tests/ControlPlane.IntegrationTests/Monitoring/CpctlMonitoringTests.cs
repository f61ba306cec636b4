using Xunit;

namespace ControlPlane.IntegrationTests.Monitoring;

/// <summary>cpctl perf and cpctl alert against the monitoring silo, through the binary's own entry point.</summary>
[Collection(MonitoringCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class CpctlMonitoringTests(MonitoringSiloFixture fixture)
{
    [Fact]
    public async Task Perf_shows_the_top_statements_and_the_advice_section()
    {
        await fixture.WaitForPerformanceAsync(p => p.HeavySampledAt is not null, TimeSpan.FromSeconds(60));
        var (exit, output, error) = await fixture.CpctlAsync("perf", MonitoringSiloFixture.TierName);
        Assert.True(exit == 0, error);
        Assert.Contains("TOP STATEMENTS", output, StringComparison.Ordinal);
        Assert.Contains("INDEX ADVICE (run these yourself; the control plane never does)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Alert_rules_lists_the_defaults()
    {
        var (exit, output, error) = await fixture.CpctlAsync("alert", "rules");
        Assert.True(exit == 0, error);
        Assert.Contains("ReplicaLagHigh", output, StringComparison.Ordinal);
        Assert.Contains("replica_lag_seconds > 30", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rule_on_an_unknown_metric_exits_non_zero_with_the_server_message()
    {
        var (exit, _, error) = await fixture.CpctlAsync("alert", "rule", "Typo", "blocked_sesions > 0");
        Assert.NotEqual(0, exit);
        Assert.Contains("metric 'blocked_sesions' is unknown", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_silence_needs_a_duration()
    {
        var (exit, _, error) = await fixture.CpctlAsync("alert", "silence", "alertname=BlockedSessions");
        Assert.Equal(2, exit);
        Assert.Contains("--for", error, StringComparison.Ordinal);
    }
}
