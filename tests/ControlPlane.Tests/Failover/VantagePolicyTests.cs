using ControlPlane.Grains.Failover;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Failover;

public sealed class VantagePolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);
    private static readonly string[] Silos = ["host-a", "host-b", "host-c", "host-d", "host-e"];

    private static VantageView View(string[] silos, string? home, params VantageReport[] reports) =>
        new(silos, silos, home, reports, Now, TimeSpan.FromSeconds(2));

    private static VantageReport Saw(string silo, bool reachable, double ageSeconds = 0) => new(silo, "oltp-a", reachable, Now.AddSeconds(-ageSeconds));

    [Fact]
    public void A_single_silo_keeps_todays_behaviour()
    {
        Assert.True(VantagePolicy.Confirm("oltp-a", View(["host-b"], null)).Confirmed);
        Assert.True(VantagePolicy.Confirm("oltp-a", View([], null)).Confirmed);
    }

    [Fact]
    public void A_primary_unreachable_from_one_silo_but_reachable_from_the_others_is_not_failed_over()
    {
        var v = VantagePolicy.Confirm("oltp-a", View(["host-b", "host-c", "host-d"], null, Saw("host-b", false), Saw("host-c", true), Saw("host-d", true)));
        Assert.False(v.Confirmed);
        Assert.Contains("only 1 of 3 vantage points cannot reach oltp-a (host-c, host-d still reach it)", v.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void While_the_primarys_own_host_silo_is_in_the_cluster_and_has_not_seen_it_fail_a_failover_waits()
    {
        var v = VantagePolicy.Confirm("oltp-a", View(["host-a", "host-b", "host-c"], "host-a", Saw("host-b", false), Saw("host-c", false)));
        Assert.False(v.Confirmed);
        Assert.Contains("the silo of oltp-a's host (host-a)", v.Reason, StringComparison.Ordinal);
        var votedOut = new VantageView(["host-a", "host-b", "host-c"], ["host-b", "host-c"], "host-a", [Saw("host-b", false), Saw("host-c", false)], Now, TimeSpan.FromSeconds(2));
        Assert.True(VantagePolicy.Confirm("oltp-a", votedOut).Confirmed);
    }

    [Fact]
    public void With_k_vantage_points_promotion_needs_a_majority_reporting_failure_in_fresh_probes()
    {
        var report = Gen.Select(Gen.Int[0, 4], Gen.Bool, Gen.Double[0, 5], (i, reachable, age) => Saw(Silos[i], reachable, age));
        Gen.Select(Gen.Int[0, 5], report.Array[0, 12]).Sample((k, reports) =>
        {
            var points = Silos.Take(k).ToArray();
            var verdict = VantagePolicy.Confirm("oltp-a", View(points, null, reports));
            var failing = points.Count(s => reports.Where(r => r.Silo == s && Now - r.At <= TimeSpan.FromSeconds(2)).MaxBy(r => r.At) is { Reachable: false });
            Assert.Equal(k <= 1 || failing * 2 > k, verdict.Confirmed);
        });
    }

    [Fact]
    public void Silos_that_never_probed_or_left_the_cluster_are_not_vantage_points()
    {
        // host-d and host-e never reported (no probes there): two of the three that do must agree.
        var view = new VantageView(["host-a", "host-b", "host-c"], Silos, null, [Saw("host-b", false), Saw("host-c", false)], Now, TimeSpan.FromSeconds(2));
        Assert.True(VantagePolicy.Confirm("oltp-a", view).Confirmed);
    }

    [Fact]
    public void The_failover_policy_does_not_promote_when_the_vantage_points_do_not_confirm_an_unreachable_primary()
    {
        var unconfirmed = new VantageVerdict(false, "only 1 of 3 vantage points cannot reach p");
        var failed = FailoverPolicyTests.View(FailoverPolicyTests.Primary(failures: 3, answering: false), FailoverPolicyTests.Standby("s1", 1000));
        var decision = FailoverPolicy.Decide(failed with { Vantage = unconfirmed });
        Assert.Equal(FailoverVerdict.Unconfirmed, decision.Verdict);
        Assert.True(decision.IsAlert);
        Assert.Contains(unconfirmed.Reason, decision.Evidence);
        var confirmed = FailoverPolicy.Decide(failed with { Vantage = new VantageVerdict(true, "2 of 3 vantage points cannot reach p") });
        Assert.Equal(FailoverVerdict.Promote, confirmed.Verdict);
        Assert.Contains("2 of 3 vantage points cannot reach p", confirmed.Evidence);
    }
}
