using System.Diagnostics;
using ControlPlane.Protos.V1;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// A standby that answers but never streams, made for real: its primary_conninfo is overridden with ALTER SYSTEM to a
/// port nothing listens on, and reloaded, so its WAL receiver stops and cannot start again while the server answers
/// every probe in recovery. No other rule sees it (it is reachable, its slot is intact); after the tier's
/// not_streaming_heal_after the control plane records a heal_standby decision and rejoins it, and the rejoin drops
/// the override so it streams from the primary again.
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class NotStreamingStandbyChaosTests(ChaosSiloFixture fixture, ITestOutputHelper output)
{
    private const int HealAfterSeconds = 10;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private TierControl Tier => fixture.Tier;

    [Fact]
    public async Task A_reachable_standby_whose_wal_receiver_cannot_reach_the_primary_is_rejoined_after_the_heal_delay_and_streams_again()
    {
        await Tier.ResetAsync();
        await using var scenario = await ChaosScenario.BeginAsync(Tier, fixture.PasswordFile, output, "not-streaming");
        var start = scenario.Start;
        var lastSequence = (await Tier.DecisionsAsync()).Select(d => d.Sequence).DefaultIfEmpty(0).Max();
        var victim = start.Replicas.Where(r => r.Name != start.Primary).Select(r => r.Name).Order(StringComparer.Ordinal).First();
        var standby = await Tier.InstanceAsync(victim);
        var previous = await Tier.ChangeSettingsAsync(s => s.NotStreamingHealAfterSeconds = HealAfterSeconds);
        var overridden = false;
        try
        {
            // Port 1: nothing listens there, so the WAL receiver fails at once and keeps failing.
            await ChaosSlots.ExecuteAsync(standby, "ALTER SYSTEM SET primary_conninfo = 'host=127.0.0.1 port=1 user=replicator connect_timeout=2'");
            overridden = true;
            await ChaosSlots.ExecuteAsync(standby, "SELECT pg_reload_conf()");
            var broken = Stopwatch.StartNew();

            var seen = await Tier.WaitAsync(t => t.Replicas.Single(r => r.Name == victim) is { Reachable: true } r && r.WalReceiverStatus != "streaming", Timeout);
            output.WriteLine($"seen not streaming after {broken.ElapsedMilliseconds} ms: {seen.Replicas.Single(r => r.Name == victim).Problem}");

            var heal = await Tier.WaitForDecisionAsync(d => d.Sequence > lastSequence && d.Kind == "heal_standby"
                && d.Reason.StartsWith($"standby {victim} reachable but not streaming from primary {start.Primary} for ", StringComparison.Ordinal), Timeout);
            output.WriteLine($"decision after {broken.ElapsedMilliseconds} ms: {heal.Reason} | {string.Join(" | ", heal.Evidence)} | {string.Join("; ", heal.Steps)}");
            Assert.EndsWith(": rejoining it", heal.Reason, StringComparison.Ordinal);
            Assert.Equal(start.Term, heal.Term);
            Assert.Contains(heal.Evidence, e => e.Contains($"not_streaming_heal_after {HealAfterSeconds} s", StringComparison.Ordinal));

            var healed = await Tier.WaitAsync(t => t.Replicas.Single(r => r.Name == victim) is { Healthy: true, WalReceiverStatus: "streaming" }, Timeout);
            output.WriteLine($"streaming again after {broken.ElapsedMilliseconds} ms");
            // The rejoin took the override away: the upstream is the one the control plane writes.
            Assert.Equal("controlplane.conf", await ChaosSlots.ScalarTextAsync(standby, "SELECT regexp_replace(sourcefile, '^.*/', '') FROM pg_settings WHERE name = 'primary_conninfo'"));
            overridden = false;
            Assert.Equal(start.Primary, healed.Primary);
        }
        finally
        {
            if (overridden)
            {
                await ChaosSlots.ExecuteAsync(standby, "ALTER SYSTEM RESET primary_conninfo");
                await ChaosSlots.ExecuteAsync(standby, "SELECT pg_reload_conf()");
            }
            await Tier.ChangeSettingsAsync(s => s.NotStreamingHealAfterSeconds = previous.NotStreamingHealAfterSeconds);
        }
        var (end, _) = await scenario.FinishAsync(noLossExpected: true);
        Assert.Equal(start.Term, end.Term);
        Assert.Equal(start.Primary, end.Primary);
    }
}
