using ControlPlane.Grains.Failover;
using Xunit;
using static ControlPlane.Tests.Failover.FailoverPolicyTests;

namespace ControlPlane.Tests.Failover;

/// <summary>The replay-lag limit in seconds: refused by a failover, forced by an operator, ignored by a switchover.</summary>
public sealed class FailoverLagPolicyTests
{
    private static readonly FailoverSettings Limit = new() { MaxLagOnFailoverSeconds = 5 };

    private static FailoverView LagView(params ReplicaFacts[] standbys) =>
        new(Limit, false, 1, "p", 1000, [Primary(failures: 3, answering: false), .. standbys]);

    [Fact]
    public void A_standby_whose_replay_lags_more_than_the_limit_is_never_promoted_by_a_failover()
    {
        var decision = FailoverPolicy.Decide(LagView(Standby("s1", 1000) with { ReplayLagSeconds = 12.3 }));
        Assert.Equal(FailoverVerdict.NoCandidate, decision.Verdict);
        Assert.True(decision.IsAlert);
        Assert.Contains(decision.Evidence, e => e.Contains("s1 not eligible: its replay is 12.3 s behind, more than max_lag_on_failover_seconds 5", StringComparison.Ordinal));
    }

    [Fact]
    public void The_failover_passes_over_a_lagging_standby_to_one_within_the_limit()
    {
        var decision = FailoverPolicy.Decide(LagView(Standby("s1", 1000) with { ReplayLagSeconds = 60 }, Standby("s2", 1000) with { ReplayLagSeconds = 0.2 }));
        Assert.Equal("s2", decision.Candidate);
    }

    [Fact]
    public void An_operator_may_force_a_lagging_standby_with_allow_data_loss()
    {
        var view = LagView(Standby("s1", 1000) with { ReplayLagSeconds = 60 });
        Assert.Null(FailoverPolicy.Elect(view, "s1", allowDataLoss: false, ElectionPurpose.Failover).Candidate);
        Assert.Equal("s1", FailoverPolicy.Elect(view, "s1", allowDataLoss: true, ElectionPurpose.Failover).Candidate);
    }

    [Fact]
    public void A_switchover_is_not_refused_for_replay_lag_because_it_waits_for_the_replay()
    {
        var view = LagView(Standby("s1", 1000) with { ReplayLagSeconds = 60 });
        Assert.Equal("s1", FailoverPolicy.Elect(view, null, allowDataLoss: false, ElectionPurpose.Switchover).Candidate);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(86_401)]
    [InlineData(double.NaN)]
    public void The_limit_must_be_positive_and_at_most_a_day(double seconds)
    {
        var errors = new FailoverSettings { MaxLagOnFailoverSeconds = seconds }.Validate();
        Assert.Contains(errors, e => e.StartsWith("max_lag_on_failover_seconds is", StringComparison.Ordinal));
    }
}
