using ControlPlane.Silo.Catalog;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Catalog;

public sealed class CatalogSynchronyPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan DegradeAfter = TimeSpan.FromSeconds(5);

    private static CatalogSynchronyView View(
        bool namesSet = true, string? peer = "quorum", bool caughtUp = false, double awaySeconds = 0, DateTimeOffset? degradedSince = null,
        bool strict = false, bool asynchronous = false) =>
        new(asynchronous, strict, namesSet, peer, caughtUp, peer is null ? Now.AddSeconds(-awaySeconds) : null, Now, DegradeAfter, degradedSince);

    [Fact]
    public void A_streaming_synchronous_standby_is_kept()
    {
        Assert.Equal(CatalogSynchronyAction.Keep, CatalogSynchronyPolicy.Decide(View()).Action);
    }

    [Fact]
    public void Commits_wait_for_a_standby_that_stopped_streaming_until_the_limit_then_the_replication_degrades()
    {
        var waiting = CatalogSynchronyPolicy.Decide(View(peer: null, awaySeconds: 4.9));
        Assert.Equal(CatalogSynchronyAction.Keep, waiting.Action);
        Assert.Contains("commits wait for it up to 5 s", waiting.Reason, StringComparison.Ordinal);
        var degraded = CatalogSynchronyPolicy.Decide(View(peer: null, awaySeconds: 5));
        Assert.Equal(CatalogSynchronyAction.Degrade, degraded.Action);
        Assert.Contains("has not streamed for 5 s", degraded.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Strict_keeps_commits_waiting_however_long_the_standby_is_away()
    {
        var verdict = CatalogSynchronyPolicy.Decide(View(peer: null, awaySeconds: 3600, strict: true));
        Assert.Equal(CatalogSynchronyAction.Keep, verdict.Action);
        Assert.Contains("strict", verdict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_primary_that_does_not_wait_for_its_absent_standby_is_recorded_degraded_once()
    {
        Assert.Equal(CatalogSynchronyAction.Degrade, CatalogSynchronyPolicy.Decide(View(namesSet: false, peer: null)).Action);
        Assert.Equal(CatalogSynchronyAction.Keep, CatalogSynchronyPolicy.Decide(View(namesSet: false, peer: null, degradedSince: Now.AddMinutes(-1))).Action);
    }

    [Fact]
    public void A_standby_streaming_again_is_waited_for_again_and_the_mark_cleared_only_once_it_caught_up()
    {
        var since = Now.AddMinutes(-2);
        Assert.Equal(CatalogSynchronyAction.Resynchronize, CatalogSynchronyPolicy.Decide(View(namesSet: false, peer: "async", degradedSince: since)).Action);
        Assert.Equal(CatalogSynchronyAction.Keep, CatalogSynchronyPolicy.Decide(View(peer: "potential", caughtUp: true, degradedSince: since)).Action);
        Assert.Equal(CatalogSynchronyAction.Keep, CatalogSynchronyPolicy.Decide(View(peer: "quorum", caughtUp: false, degradedSince: since)).Action);
        Assert.Equal(CatalogSynchronyAction.ConfirmSynchronous, CatalogSynchronyPolicy.Decide(View(peer: "quorum", caughtUp: true, degradedSince: since)).Action);
        Assert.Equal(CatalogSynchronyAction.ConfirmSynchronous, CatalogSynchronyPolicy.Decide(View(peer: "sync", caughtUp: true, degradedSince: since)).Action);
    }

    [Fact]
    public void An_asynchronous_standby_is_never_touched()
    {
        Assert.Equal(CatalogSynchronyAction.Keep, CatalogSynchronyPolicy.Decide(View(namesSet: false, peer: null, awaySeconds: 600, asynchronous: true)).Action);
    }

    /// <summary>
    /// The invariant the promotion relies on: the mark is cleared only for a synchronous, caught-up standby, and the
    /// primary stops waiting (names cleared) only by a Degrade, which the keeper persists before it acts.
    /// </summary>
    [Fact]
    public void The_degraded_mark_is_cleared_only_for_a_synchronous_caught_up_standby_and_waiting_stops_only_by_degrading()
    {
        string?[] states = [null, "async", "potential", "sync", "quorum"];
        Gen.Select(Gen.Bool, Gen.Bool, Gen.Int[0, states.Length - 1].Select(i => states[i]), Gen.Bool, Gen.Double[0, 100], Gen.Bool, Gen.Bool)
            .Sample((names, strict, peer, caughtUp, away, degraded, asynchronous) =>
            {
                var view = View(names, peer, caughtUp, away, degraded ? Now.AddMinutes(-1) : null, strict, asynchronous);
                var verdict = CatalogSynchronyPolicy.Decide(view);
                if (verdict.Action == CatalogSynchronyAction.ConfirmSynchronous)
                    Assert.True(names && peer is "sync" or "quorum" && caughtUp && degraded && !asynchronous, verdict.Reason);
                if (verdict.Action == CatalogSynchronyAction.Degrade)
                    Assert.True(peer is null && !asynchronous && (!names || !strict), verdict.Reason);
                if (verdict.Action == CatalogSynchronyAction.Resynchronize) Assert.True(peer is not null && !names && !asynchronous, verdict.Reason);
            });
    }
}
