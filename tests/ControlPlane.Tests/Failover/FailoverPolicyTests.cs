using ControlPlane.Grains.Failover;
using Xunit;

namespace ControlPlane.Tests.Failover;

public sealed class FailoverPolicyTests
{
    internal static ReplicaFacts Primary(string name = "p", int failures = 0, bool answering = true) =>
        new(name, answering, true, failures, false, null, null, false, false, 1);

    internal static ReplicaFacts Standby(string name, ulong lsn, bool answering = true, bool streaming = false, int priority = 1, bool sync = false) =>
        new(name, answering, true, answering ? 0 : 3, true, lsn, lsn, streaming, sync, priority);

    internal static FailoverView View(params ReplicaFacts[] replicas) =>
        new(new FailoverSettings(), false, 7, "p", 1000, replicas);

    [Fact]
    public void A_primary_that_answers_needs_nothing()
    {
        var decision = FailoverPolicy.Decide(View(Primary(), Standby("s1", 1000)));
        Assert.Equal(FailoverVerdict.PrimaryHealthy, decision.Verdict);
    }

    [Fact]
    public void A_primary_below_the_failure_threshold_is_only_suspect()
    {
        var decision = FailoverPolicy.Decide(View(Primary(failures: 2, answering: false), Standby("s1", 1000)));
        Assert.Equal(FailoverVerdict.Suspect, decision.Verdict);
        Assert.Null(decision.Candidate);
    }

    [Fact]
    public void A_primary_at_the_threshold_is_failed_over_to_the_standby()
    {
        var decision = FailoverPolicy.Decide(View(Primary(failures: 3, answering: false), Standby("s1", 1000)));
        Assert.Equal(FailoverVerdict.Promote, decision.Verdict);
        Assert.Equal("s1", decision.Candidate);
        Assert.Contains(decision.Evidence, e => e.Contains("failed 3 consecutive probes", StringComparison.Ordinal));
    }

    [Fact]
    public void Failover_picks_the_standby_with_the_highest_received_lsn()
    {
        var decision = FailoverPolicy.Decide(View(Primary(failures: 3, answering: false), Standby("s1", 900), Standby("s2", 950), Standby("s3", 940)));
        Assert.Equal("s2", decision.Candidate);
    }

    [Fact]
    public void Ties_in_position_go_to_the_higher_priority()
    {
        var decision = FailoverPolicy.Decide(View(Primary(failures: 3, answering: false), Standby("s1", 950, priority: 1), Standby("s2", 950, priority: 5)));
        Assert.Equal("s2", decision.Candidate);
    }

    [Fact]
    public void Priority_zero_is_never_promoted()
    {
        var decision = FailoverPolicy.Decide(View(Primary(failures: 3, answering: false), Standby("s1", 1000, priority: 0)));
        Assert.Equal(FailoverVerdict.NoCandidate, decision.Verdict);
        Assert.Contains(decision.Evidence, e => e.Contains("priority 0", StringComparison.Ordinal));
    }

    [Fact]
    public void Nothing_is_done_when_every_replica_is_unreachable()
    {
        var decision = FailoverPolicy.Decide(View(Primary(failures: 5, answering: false), Standby("s1", 1000, answering: false)));
        Assert.Equal(FailoverVerdict.Blind, decision.Verdict);
        Assert.True(decision.IsAlert);
    }

    [Fact]
    public void Nothing_is_done_while_a_standby_still_streams_from_the_primary()
    {
        var decision = FailoverPolicy.Decide(View(Primary(failures: 5, answering: false), Standby("s1", 1000, streaming: true)));
        Assert.Equal(FailoverVerdict.PrimaryAliveToStandbys, decision.Verdict);
        Assert.Contains("s1 still streaming", decision.Evidence[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void A_paused_tier_only_alerts()
    {
        var view = View(Primary(failures: 3, answering: false), Standby("s1", 1000)) with { Paused = true };
        Assert.Equal(FailoverVerdict.Suspended, FailoverPolicy.Decide(view).Verdict);
    }

    [Fact]
    public void A_candidate_lagging_more_than_the_limit_is_refused_unless_forced()
    {
        var settings = new FailoverSettings { MaxLagOnFailoverBytes = 100 };
        var view = new FailoverView(settings, false, 1, "p", 10_000, [Primary(failures: 3, answering: false), Standby("s1", 5_000)]);
        var decision = FailoverPolicy.Decide(view);
        Assert.Equal(FailoverVerdict.NoCandidate, decision.Verdict);
        Assert.Contains("max_lag_on_failover", decision.Reason, StringComparison.Ordinal);
        Assert.Equal("s1", FailoverPolicy.Elect(view, null, allowDataLoss: true, ElectionPurpose.Failover).Candidate);
    }

    [Fact]
    public void In_synchronous_mode_only_a_synchronous_standby_is_promoted()
    {
        var settings = new FailoverSettings { SynchronousMode = SynchronousMode.On };
        var view = new FailoverView(settings, false, 1, "p", 1000,
            [Primary(failures: 3, answering: false), Standby("async", 1000), Standby("sync", 990, sync: true)]);
        Assert.Equal("sync", FailoverPolicy.Decide(view).Candidate);
    }

    [Fact]
    public void A_target_behind_the_best_standby_is_refused_without_allow_data_loss()
    {
        var view = View(Primary(), Standby("s1", 900), Standby("s2", 1000));
        var election = FailoverPolicy.Elect(view, "s1", allowDataLoss: false, ElectionPurpose.Failover);
        Assert.Null(election.Candidate);
        Assert.Contains("100 bytes behind s2", election.Reason, StringComparison.Ordinal);
        Assert.Equal("s1", FailoverPolicy.Elect(view, "s1", allowDataLoss: true, ElectionPurpose.Failover).Candidate);
    }

    [Fact]
    public void A_switchover_may_target_a_lagging_standby_because_it_waits_for_it()
    {
        var view = View(Primary(), Standby("s1", 10), Standby("s2", 1000));
        Assert.Equal("s1", FailoverPolicy.Elect(view, "s1", allowDataLoss: false, ElectionPurpose.Switchover).Candidate);
    }

    [Fact]
    public void The_primary_itself_is_not_a_target()
    {
        var election = FailoverPolicy.Elect(View(Primary(), Standby("s1", 1000)), "p", false, ElectionPurpose.Switchover);
        Assert.Null(election.Candidate);
        Assert.Equal("p is already the primary", election.Reason);
    }

    [Fact]
    public void A_stale_report_of_the_primary_is_not_evidence_of_failure()
    {
        var stale = Primary(failures: 9, answering: false) with { Fresh = false };
        Assert.Equal(FailoverVerdict.Suspect, FailoverPolicy.Decide(View(stale, Standby("s1", 1000))).Verdict);
    }
}
