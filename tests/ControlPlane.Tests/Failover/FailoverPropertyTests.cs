using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Health;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Failover;

/// <summary>The policy over the whole input space: random tiers of one primary and up to five standbys.</summary>
public sealed class FailoverPropertyTests
{
    /// <summary>A fresh-connection outcome with a consistent failure count (only "cannot open" outcomes count).</summary>
    private static readonly Gen<(SessionState Outcome, int Failures, bool? PostmasterAlive)> SessionGen =
        Gen.Select(Gen.Int[0, 8], Gen.Int[1, 6], Gen.Int[0, 2],
            (outcome, failures, alive) => ((SessionState)outcome, SessionStates.IsCannotOpen((SessionState)outcome) ? failures : 0,
                alive switch { 0 => (bool?)null, 1 => true, _ => false }));

    private static readonly Gen<ReplicaFacts> StandbyGen =
        Gen.Select(Gen.Select(Gen.Bool, Gen.Bool, Gen.Int[0, 6], Gen.Bool), Gen.Select(Gen.ULong[0, 10_000], Gen.Bool, Gen.Bool, Gen.Int[0, 3]), SessionGen,
            Gen.Double[0, 20], Gen.Int[0, 3],
            (a, b, session, lagSeconds, broken) => new ReplicaFacts("s", a.Item1, a.Item2, a.Item3, a.Item4, b.Item1, b.Item1, b.Item2, b.Item3, b.Item4,
                session.Outcome, session.Failures, session.PostmasterAlive, lagSeconds, broken == 0 ? "broken beyond streaming: its slot is lost" : null));

    private static readonly Gen<ReplicaFacts> PrimaryGen =
        Gen.Select(Gen.Bool, Gen.Bool, Gen.Int[0, 6], Gen.Bool, SessionGen,
            (reachable, fresh, failures, inRecovery, session) => new ReplicaFacts("p", reachable, fresh, failures, inRecovery, null, null, false, false, 1,
                session.Outcome, session.Failures, session.PostmasterAlive));

    private static readonly Gen<FailoverView> ViewGen =
        Gen.Select(PrimaryGen, StandbyGen.List[0, 5], Gen.Int[1, 4], Gen.Long[0, 5_000], Gen.Int[0, 2], Gen.Bool, Gen.ULong[0, 12_000],
            (primary, standbys, threshold, maxLag, sync, paused, primaryLsn) =>
            {
                var named = standbys.Select((s, i) => s with { Name = $"s{i}" }).ToList();
                var settings = new FailoverSettings
                {
                    FailureThreshold = threshold,
                    MaxLagOnFailoverBytes = maxLag,
                    MaxLagOnFailoverSeconds = 10,
                    SynchronousMode = (SynchronousMode)sync,
                    Priorities = named.ToDictionary(s => s.Name, s => s.Priority),
                };
                return new FailoverView(settings, paused, 1, "p", primaryLsn, [primary, .. named]);
            });

    [Fact]
    public void Never_promotes_a_node_behind_the_best_eligible_one() =>
        ViewGen.Sample(view =>
        {
            var decision = FailoverPolicy.Decide(view);
            if (decision.Verdict != FailoverVerdict.Promote) return;
            var chosen = view.Replicas.Single(r => r.Name == decision.Candidate);
            var eligible = view.Replicas.Where(r => r.Name != "p" && r.Answering && r.InRecovery && r.Priority > 0 && !SessionStates.IsCannotOpen(r.Session)
                && (view.Settings.SynchronousMode == SynchronousMode.Off || r.LastKnownSynchronous));
            Assert.All(eligible, r => Assert.True(r.Position <= chosen.Position, $"{r.Name} at {r.Position} is ahead of {chosen.Name} at {chosen.Position}"));
        });

    [Fact]
    public void Never_acts_when_no_replica_answers() =>
        ViewGen.Sample(view =>
        {
            if (view.Replicas.Any(r => r.Answering)) return;
            Assert.NotEqual(FailoverVerdict.Promote, FailoverPolicy.Decide(view).Verdict);
        });

    [Fact]
    public void Never_acts_while_the_primary_answers_writable_and_opens_new_sessions() =>
        ViewGen.Sample(view =>
        {
            var primary = view.Replicas[0];
            if (primary.Answering && !primary.InRecovery && primary.SessionFailures < view.Settings.FailureThreshold)
                Assert.NotEqual(FailoverVerdict.Promote, FailoverPolicy.Decide(view).Verdict);
        });

    [Fact]
    public void Never_acts_while_a_standby_streams_from_a_primary_the_control_plane_cannot_reach_at_all() =>
        ViewGen.Sample(view =>
        {
            var primary = view.Replicas[0];
            var aliveToStandbys = view.Replicas.Skip(1).Any(r => r.Answering && r.StreamingFromPrimary);
            // Silent to us on every path (the pooled probe fails, no TCP answer or no check): our network may be the fault.
            var silent = !primary.Reachable && primary.Session is not (SessionState.Refused or SessionState.Rejected);
            if (aliveToStandbys && silent)
                Assert.NotEqual(FailoverVerdict.Promote, FailoverPolicy.Decide(view).Verdict);
        });

    [Fact]
    public void Too_many_clients_or_refused_credentials_never_count_as_failure_evidence() =>
        ViewGen.Sample(view =>
        {
            var primary = view.Replicas[0];
            if (primary.Session is not (SessionState.TooManyClients or SessionState.AuthenticationFailed) || (primary.Answering && primary.InRecovery)) return;
            var decision = FailoverPolicy.Decide(view);
            Assert.True(decision.Verdict is FailoverVerdict.SessionsRefused or FailoverVerdict.PrimaryHealthy, $"{decision.Verdict}: {decision.Reason}");
        });

    [Fact]
    public void Never_acts_below_the_failure_threshold_or_when_paused_unless_death_is_certain() =>
        ViewGen.Sample(view =>
        {
            var primary = view.Replicas[0];
            var threshold = view.Settings.FailureThreshold;
            var belowWindow = !primary.Answering && primary.ConsecutiveFailures < threshold && primary.SessionFailures < threshold;
            if (view.Paused || (belowWindow && FailoverPolicy.CertainDeath(primary, view) is null))
                Assert.NotEqual(FailoverVerdict.Promote, FailoverPolicy.Decide(view).Verdict);
        });

    [Fact]
    public void A_hang_is_never_certain_death() =>
        ViewGen.Sample(view =>
        {
            var primary = view.Replicas[0];
            if (primary.Session is not SessionState.Refused || primary.PostmasterAlive != false)
                Assert.Null(FailoverPolicy.CertainDeath(primary, view));
        });

    [Fact]
    public void A_standby_that_opens_no_new_session_is_never_elected() =>
        ViewGen.Sample(view =>
        {
            var decision = FailoverPolicy.Decide(view);
            if (decision.Candidate is null) return;
            Assert.False(SessionStates.IsCannotOpen(view.Replicas.Single(r => r.Name == decision.Candidate).Session));
        });

    [Fact]
    public void A_promoted_candidate_is_an_answering_standby_with_priority_and_within_the_lag_limit() =>
        ViewGen.Sample(view =>
        {
            var decision = FailoverPolicy.Decide(view);
            if (decision.Verdict != FailoverVerdict.Promote) return;
            var chosen = view.Replicas.Single(r => r.Name == decision.Candidate);
            Assert.True(chosen.Answering && chosen.InRecovery && chosen.Priority > 0);
            var lag = view.PrimaryLastLsn is { } last && last > chosen.Position ? (long)(last - chosen.Position) : 0;
            Assert.True(lag <= view.Settings.MaxLagOnFailoverBytes);
        });

    [Fact]
    public void A_failover_never_promotes_a_standby_whose_replay_lags_beyond_the_limit() =>
        ViewGen.Sample(view =>
        {
            var decision = FailoverPolicy.Decide(view);
            if (decision.Candidate is null) return;
            var chosen = view.Replicas.Single(r => r.Name == decision.Candidate);
            Assert.True((chosen.ReplayLagSeconds ?? 0) <= view.Settings.MaxLagOnFailoverSeconds, $"{chosen.Name} lags {chosen.ReplayLagSeconds} s");
        });

    [Fact]
    public void A_broken_standby_is_never_elected_not_even_by_name_or_with_data_loss_allowed() =>
        Gen.Select(ViewGen, Gen.Int[0, 5], Gen.Bool, Gen.Bool).Sample((view, target, allowDataLoss, switchover) =>
        {
            var decision = FailoverPolicy.Decide(view);
            if (decision.Candidate is { } automatic) Assert.Null(view.Replicas.Single(r => r.Name == automatic).Broken);
            var purpose = switchover ? ElectionPurpose.Switchover : ElectionPurpose.Failover;
            var election = FailoverPolicy.Elect(view, $"s{target}", allowDataLoss, purpose);
            if (election.Candidate is { } named) Assert.Null(view.Replicas.Single(r => r.Name == named).Broken);
            var best = FailoverPolicy.Elect(view, null, allowDataLoss, purpose);
            if (best.Candidate is { } any) Assert.Null(view.Replicas.Single(r => r.Name == any).Broken);
        });

    [Fact]
    public void Deciding_is_deterministic() =>
        ViewGen.Sample(view => Assert.Equal(FailoverPolicy.Decide(view).Candidate, FailoverPolicy.Decide(view).Candidate));
}
