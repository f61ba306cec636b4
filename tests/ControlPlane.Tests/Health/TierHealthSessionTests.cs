using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Health;
using Xunit;

namespace ControlPlane.Tests.Health;

/// <summary>What the tier tells an SRE about new sessions: never "healthy" while a new client cannot get in.</summary>
public sealed class TierHealthSessionTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static TierSpec Spec() => new("local", "oltp", "oltp-1",
        [new ReplicaSpec("local", "oltp", "oltp-1", "127.0.0.1", 5432, "postgres", "postgres", "/secret", null),
         new ReplicaSpec("local", "oltp", "oltp-2", "127.0.0.1", 5433, "postgres", "postgres", "/secret", null)]);

    private static TierView Evaluate(ReplicaHealth primary) =>
        TierHealthPolicy.Evaluate(Spec(), "oltp-1", 1,
            new Dictionary<string, ReplicaHealth> { ["oltp-1"] = primary, ["oltp-2"] = TierHealthPolicyTests.Standby("oltp-2") }, Now, TimeSpan.FromSeconds(5));

    [Fact]
    public void A_primary_whose_pooled_probe_answers_but_opens_no_new_session_is_not_healthy_and_the_tier_is_down()
    {
        var primary = TierHealthPolicyTests.Primary("oltp-1") with
        {
            Session = SessionState.SessionTimedOut, SessionError = "connected but no session within 0.4s", ConsecutiveSessionFailures = 1,
        };
        var view = Evaluate(primary);
        var status = view.Replicas.Single(r => r.Name == "oltp-1");
        Assert.False(status.Healthy);
        Assert.True(status.Reachable);
        Assert.Equal("accepts no new session: connected but no session within 0.4s", status.Problem);
        Assert.Equal(SessionState.SessionTimedOut, status.Session);
        Assert.Equal(TierHealth.Down, view.Health);
    }

    [Fact]
    public void A_primary_refusing_new_sessions_for_too_many_clients_stays_healthy_and_says_why()
    {
        var primary = TierHealthPolicyTests.Primary("oltp-1") with
        {
            Session = SessionState.TooManyClients, SessionError = "53300: sorry, too many clients already",
        };
        var status = Evaluate(primary).Replicas.Single(r => r.Name == "oltp-1");
        Assert.True(status.Healthy);
        Assert.Contains("53300", status.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_primary_that_opens_sessions_is_healthy_and_shows_the_check()
    {
        var primary = TierHealthPolicyTests.Primary("oltp-1") with { Session = SessionState.Opened, SessionLatencyMs = 3.5, SessionCheckedAt = Now };
        var status = Evaluate(primary).Replicas.Single(r => r.Name == "oltp-1");
        Assert.True(status.Healthy);
        Assert.Equal("", status.Problem);
        Assert.Equal(3.5, status.SessionLatencyMs);
    }
}
