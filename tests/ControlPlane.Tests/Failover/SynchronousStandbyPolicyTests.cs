using ControlPlane.Grains.Failover;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Failover;

/// <summary>Mode 4 of issue 21: a synchronous standby lost in synchronous mode, strict or degrading after a delay.</summary>
public sealed class SynchronousStandbyPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 3, 30, 0, TimeSpan.Zero);
    private static readonly string[] Standbys = ["oltp-2", "oltp-3"];

    private static SynchronousFacts Facts(SynchronousMode mode, string[] streaming, TimeSpan? lostFor = null, double degradeAfterSeconds = 0) =>
        new(mode, TimeSpan.FromSeconds(degradeAfterSeconds), "oltp-1", Standbys, streaming, lostFor is { } f ? Now - f : null, Now);

    /// <summary>Random tiers: up to four standbys, any of them streaming, any loss clock and delay.</summary>
    private static readonly Gen<SynchronousFacts> FactsGen =
        Gen.Select(Gen.Int[0, 2], Gen.Int[0, 4], Gen.Int[0, 15], Gen.Select(Gen.Bool, Gen.Int[0, 120]), Gen.Int[0, 60],
            (mode, count, streamingMask, lost, degradeAfter) =>
            {
                var standbys = Enumerable.Range(2, count).Select(i => $"oltp-{i}").ToList();
                var streaming = standbys.Where((_, i) => (streamingMask & (1 << i)) != 0).ToList();
                return new SynchronousFacts((SynchronousMode)mode, TimeSpan.FromSeconds(degradeAfter), "oltp-1", standbys, streaming,
                    lost.Item1 ? Now.AddSeconds(-lost.Item2) : null, Now);
            });

    [Fact]
    public void With_a_standby_streaming_commits_wait_for_any_one_of_the_streaming_standbys()
    {
        var plan = SynchronousStandbyPolicy.Plan(Facts(SynchronousMode.On, ["oltp-3", "oltp-2"]));
        Assert.Equal("ANY 1 (\"oltp-2\", \"oltp-3\")", plan.Names);
        Assert.Equal(SynchronousState.Protected, plan.State);
        Assert.Null(plan.Alert);
    }

    [Fact]
    public void One_standby_lost_of_two_narrows_the_list_without_an_alert()
    {
        var plan = SynchronousStandbyPolicy.Plan(Facts(SynchronousMode.Strict, ["oltp-3"]));
        Assert.Equal("ANY 1 (\"oltp-3\")", plan.Names);
        Assert.Null(plan.Alert);
        Assert.Null(plan.LostSince);
    }

    [Fact]
    public void Strict_mode_keeps_every_standby_listed_and_alerts_at_once_naming_the_lost_standbys()
    {
        var plan = SynchronousStandbyPolicy.Plan(Facts(SynchronousMode.Strict, []));
        Assert.Equal("ANY 1 (\"oltp-2\", \"oltp-3\")", plan.Names);
        Assert.Equal(SynchronousState.Waiting, plan.State);
        Assert.Equal(Now, plan.LostSince);
        Assert.Equal(Standbys, plan.Lost);
        Assert.StartsWith("synchronous standby lost: none of oltp-2, oltp-3 streams from primary oltp-1; commits on oltp-1 wait", plan.Alert, StringComparison.Ordinal);
    }

    [Fact]
    public void Strict_mode_never_degrades_however_long_the_standbys_are_gone()
    {
        var plan = SynchronousStandbyPolicy.Plan(Facts(SynchronousMode.Strict, [], lostFor: TimeSpan.FromDays(3), degradeAfterSeconds: 1));
        Assert.Equal(SynchronousState.Waiting, plan.State);
        Assert.NotEqual("", plan.Names);
    }

    [Fact]
    public void Mode_on_lets_commits_wait_until_the_delay_then_goes_asynchronous_with_an_alert()
    {
        var waiting = SynchronousStandbyPolicy.Plan(Facts(SynchronousMode.On, [], lostFor: TimeSpan.FromSeconds(4), degradeAfterSeconds: 5));
        Assert.Equal(SynchronousState.Waiting, waiting.State);
        Assert.Equal("ANY 1 (\"oltp-2\", \"oltp-3\")", waiting.Names);
        Assert.Contains("asynchronous after synchronous_degrade_after 5 s", waiting.Alert, StringComparison.Ordinal);

        var degraded = SynchronousStandbyPolicy.Plan(Facts(SynchronousMode.On, [], lostFor: TimeSpan.FromSeconds(5), degradeAfterSeconds: 5));
        Assert.Equal(SynchronousState.Degraded, degraded.State);
        Assert.Equal("", degraded.Names);
        Assert.Equal(Now - TimeSpan.FromSeconds(5), degraded.LostSince);
        Assert.StartsWith("synchronous standby lost: none of oltp-2, oltp-3 streams from primary oltp-1; degraded to asynchronous after 5 s", degraded.Alert, StringComparison.Ordinal);
    }

    [Fact]
    public void Mode_on_with_no_delay_degrades_as_soon_as_the_loss_is_seen()
    {
        var plan = SynchronousStandbyPolicy.Plan(Facts(SynchronousMode.On, []));
        Assert.Equal(SynchronousState.Degraded, plan.State);
        Assert.Equal("", plan.Names);
    }

    [Fact]
    public void A_standby_streaming_again_restores_the_list_and_stops_the_clock()
    {
        var plan = SynchronousStandbyPolicy.Plan(Facts(SynchronousMode.On, ["oltp-2"], lostFor: TimeSpan.FromMinutes(2), degradeAfterSeconds: 5));
        Assert.Equal("ANY 1 (\"oltp-2\")", plan.Names);
        Assert.Equal(SynchronousState.Protected, plan.State);
        Assert.Null(plan.LostSince);
    }

    [Fact]
    public void Asynchronous_mode_or_a_tier_without_standbys_waits_for_nothing()
    {
        Assert.Equal("", SynchronousStandbyPolicy.Plan(Facts(SynchronousMode.Off, ["oltp-2"])).Names);
        var lone = SynchronousStandbyPolicy.Plan(new SynchronousFacts(SynchronousMode.Strict, TimeSpan.Zero, "oltp-1", [], [], null, Now));
        Assert.Equal(("", SynchronousState.Protected), (lone.Names, lone.State));
    }

    [Fact]
    public void Strict_mode_never_empties_the_list_while_the_tier_has_a_standby() =>
        FactsGen.Sample(facts =>
        {
            if (facts.Mode != SynchronousMode.Strict || facts.Standbys.Count == 0) return;
            Assert.NotEqual("", SynchronousStandbyPolicy.Plan(facts).Names);
        });

    [Fact]
    public void The_list_is_empty_only_when_asynchronous_was_asked_for_or_the_delay_ran_out_with_no_standby_streaming() =>
        FactsGen.Sample(facts =>
        {
            var plan = SynchronousStandbyPolicy.Plan(facts);
            var expectedEmpty = facts.Mode == SynchronousMode.Off || facts.Standbys.Count == 0
                || (facts.Mode == SynchronousMode.On && facts.Streaming.Count == 0 && facts.Now - (facts.LostSince ?? facts.Now) >= facts.DegradeAfter);
            Assert.Equal(expectedEmpty, plan.Names.Length == 0);
        });

    [Fact]
    public void Only_standbys_of_the_tier_are_listed_never_the_primary() =>
        FactsGen.Sample(facts =>
        {
            var plan = SynchronousStandbyPolicy.Plan(facts);
            Assert.DoesNotContain("\"oltp-1\"", plan.Names, StringComparison.Ordinal);
            foreach (var name in facts.Standbys.Concat(["oltp-1"]).Where(n => plan.Names.Contains($"\"{n}\"", StringComparison.Ordinal)))
                Assert.Contains(name, facts.Standbys);
        });

    [Fact]
    public void An_alert_names_every_lost_standby_exactly_when_no_standby_streams_in_synchronous_mode() =>
        FactsGen.Sample(facts =>
        {
            var plan = SynchronousStandbyPolicy.Plan(facts);
            var lost = facts.Mode != SynchronousMode.Off && facts.Standbys.Count > 0 && facts.Streaming.Count == 0;
            Assert.Equal(lost, plan.Alert is not null);
            Assert.Equal(lost, plan.LostSince is not null);
            if (lost) Assert.All(facts.Standbys, s => Assert.Contains(s, plan.Alert!, StringComparison.Ordinal));
            // The clock never restarts while the loss lasts: a new activation keeps its persisted start.
            if (lost && facts.LostSince is { } since) Assert.Equal(since, plan.LostSince);
        });
}
