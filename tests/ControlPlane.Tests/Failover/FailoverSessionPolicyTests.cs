using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Health;
using Xunit;
using static ControlPlane.Tests.Failover.FailoverPolicyTests;

namespace ControlPlane.Tests.Failover;

/// <summary>The fresh-connection evidence (no new session, pressure, credentials) and certain death, case by case.</summary>
public sealed class FailoverSessionPolicyTests
{
    private static ReplicaFacts WithSessions(ReplicaFacts r, SessionState outcome, int failures = 0, bool? postmasterAlive = null) =>
        r with { Session = outcome, SessionFailures = failures, PostmasterAlive = postmasterAlive };

    [Fact]
    public void A_primary_whose_pooled_probe_answers_but_opens_no_new_session_for_the_window_is_failed_over()
    {
        var primary = WithSessions(Primary(), SessionState.SessionTimedOut, failures: 3);
        var decision = FailoverPolicy.Decide(View(primary, Standby("s1", 1000)));
        Assert.Equal(FailoverVerdict.Promote, decision.Verdict);
        Assert.Equal("s1", decision.Candidate);
        Assert.Contains(decision.Evidence, e => e.Contains("opened no new session in 3 consecutive checks", StringComparison.Ordinal));
    }

    [Fact]
    public void A_primary_that_opens_no_new_session_is_failed_over_although_a_standby_still_streams_from_it()
    {
        var primary = WithSessions(Primary(), SessionState.SessionTimedOut, failures: 3);
        var decision = FailoverPolicy.Decide(View(primary, Standby("s1", 1000, streaming: true)));
        Assert.Equal(FailoverVerdict.Promote, decision.Verdict);
        Assert.Contains(decision.Evidence, e => e.Contains("streaming does not veto", StringComparison.Ordinal));
    }

    [Fact]
    public void A_primary_silent_on_every_path_while_a_standby_streams_from_it_is_not_failed_over()
    {
        var primary = WithSessions(Primary(failures: 3, answering: false), SessionState.ConnectTimedOut, failures: 3);
        var decision = FailoverPolicy.Decide(View(primary, Standby("s1", 1000, streaming: true)));
        Assert.Equal(FailoverVerdict.PrimaryAliveToStandbys, decision.Verdict);
    }

    [Fact]
    public void Slow_sessions_while_the_pooled_probe_fails_too_do_not_outrank_a_streaming_standby()
    {
        // A CPU-starved primary: every probe and every new session times out, yet its standbys still stream.
        var primary = WithSessions(Primary(failures: 3, answering: false), SessionState.SessionTimedOut, failures: 3);
        var decision = FailoverPolicy.Decide(View(primary, Standby("s1", 1000, streaming: true)));
        Assert.Equal(FailoverVerdict.PrimaryAliveToStandbys, decision.Verdict);
    }

    [Fact]
    public void Fewer_failed_session_checks_than_the_threshold_leave_the_primary_healthy()
    {
        var primary = WithSessions(Primary(), SessionState.SessionTimedOut, failures: 2);
        Assert.Equal(FailoverVerdict.PrimaryHealthy, FailoverPolicy.Decide(View(primary, Standby("s1", 1000))).Verdict);
    }

    [Fact]
    public void Too_many_clients_is_a_pool_pressure_alert_and_never_a_failover()
    {
        var primary = WithSessions(Primary(), SessionState.TooManyClients);
        var decision = FailoverPolicy.Decide(View(primary, Standby("s1", 1000)));
        Assert.Equal(FailoverVerdict.SessionsRefused, decision.Verdict);
        Assert.True(decision.IsAlert);
        Assert.StartsWith("pool pressure:", decision.Reason, StringComparison.Ordinal);
        Assert.Contains("53300", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_many_clients_stays_an_alert_even_when_the_pooled_probe_fails_for_the_window()
    {
        var primary = WithSessions(Primary(failures: 5, answering: false), SessionState.TooManyClients);
        Assert.Equal(FailoverVerdict.SessionsRefused, FailoverPolicy.Decide(View(primary, Standby("s1", 1000))).Verdict);
    }

    [Fact]
    public void Refused_credentials_are_an_alert_and_never_a_failover()
    {
        var primary = WithSessions(Primary(failures: 5, answering: false), SessionState.AuthenticationFailed);
        var decision = FailoverPolicy.Decide(View(primary, Standby("s1", 1000)));
        Assert.Equal(FailoverVerdict.SessionsRefused, decision.Verdict);
        Assert.Contains("credentials", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_standby_that_opens_no_new_session_is_not_eligible()
    {
        var stuck = WithSessions(Standby("s1", 2000), SessionState.SessionTimedOut, failures: 1);
        var decision = FailoverPolicy.Decide(View(Primary(failures: 3, answering: false), stuck, Standby("s2", 1000)));
        Assert.Equal("s2", decision.Candidate);
        Assert.Contains(decision.Evidence, e => e.Contains("s1 not eligible: opens no new session", StringComparison.Ordinal));
    }

    [Fact]
    public void Certain_death_fails_over_at_the_first_failed_probe()
    {
        var primary = WithSessions(Primary(failures: 1, answering: false), SessionState.Refused, failures: 1, postmasterAlive: false);
        var decision = FailoverPolicy.Decide(View(primary, Standby("s1", 1000), Standby("s2", 900)));
        Assert.Equal(FailoverVerdict.Promote, decision.Verdict);
        Assert.Equal("s1", decision.Candidate);
        Assert.Contains(decision.Evidence, e => e.Contains("certain death", StringComparison.Ordinal));
    }

    [Fact]
    public void A_refused_port_is_not_certain_death_while_a_standby_still_streams()
    {
        var primary = WithSessions(Primary(failures: 1, answering: false), SessionState.Refused, failures: 1, postmasterAlive: false);
        var decision = FailoverPolicy.Decide(View(primary, Standby("s1", 1000, streaming: true), Standby("s2", 900)));
        Assert.Equal(FailoverVerdict.Suspect, decision.Verdict);
    }

    [Fact]
    public void A_refused_port_is_not_certain_death_while_the_postmaster_runs_or_is_not_known()
    {
        foreach (var alive in new bool?[] { true, null })
        {
            var primary = WithSessions(Primary(failures: 1, answering: false), SessionState.Refused, failures: 1, postmasterAlive: alive);
            Assert.Equal(FailoverVerdict.Suspect, FailoverPolicy.Decide(View(primary, Standby("s1", 1000))).Verdict);
        }
    }

    [Fact]
    public void A_hang_keeps_its_window_even_with_the_postmaster_gone()
    {
        var primary = WithSessions(Primary(failures: 2, answering: false), SessionState.SessionTimedOut, failures: 2, postmasterAlive: false);
        Assert.Equal(FailoverVerdict.Suspect, FailoverPolicy.Decide(View(primary, Standby("s1", 1000))).Verdict);
    }

    [Fact]
    public void Certain_death_needs_a_standby_that_answers()
    {
        var primary = WithSessions(Primary(failures: 1, answering: false), SessionState.Refused, failures: 1, postmasterAlive: false);
        Assert.Null(FailoverPolicy.CertainDeath(primary, View(primary, Standby("s1", 1000, answering: false))));
    }
}
