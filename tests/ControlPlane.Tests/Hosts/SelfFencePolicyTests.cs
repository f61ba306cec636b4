using ControlPlane.Grains.Hosts;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Hosts;

public sealed class SelfFencePolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);
    private static readonly SelfFenceSettings Settings = new();

    private static SelfFenceView Cut(double silentSeconds, int peers = 2, bool? writable = true, SelfFenceSettings? settings = null) =>
        new(settings ?? Settings, T0.AddSeconds(silentSeconds), T0, peers, null, writable, null);

    private static SelfFenceRecord Fenced(long? term) => new("oltp", "oltp-a", term, SelfFenceAction.ReadOnly, T0, "cut off");

    private static SelfFenceView Back(SelfFenceRecord fence, TierAnswer? tier, params OtherReplica[] others) =>
        new(Settings, T0.AddSeconds(60), T0.AddSeconds(60), 2, fence, null, tier, others);

    private static readonly OtherReplica StandbyInTerm4 = new("oltp-b", Answered: true, Writable: false, Term: 4);

    [Fact]
    public void A_writable_primary_cut_off_from_the_catalog_and_every_silo_beyond_the_bound_is_fenced()
    {
        Assert.Equal(SelfFenceVerdict.CheckInstance, SelfFencePolicy.Decide(Cut(2, writable: null)).Verdict);
        var fence = SelfFencePolicy.Decide(Cut(2));
        Assert.Equal(SelfFenceVerdict.Fence, fence.Verdict);
        Assert.Contains("neither the catalog nor any of 2 other silo(s) answered for 2000 ms (bound 1500 ms)", fence.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_silo_alone_in_its_cluster_never_fences_since_no_other_host_could_promote()
    {
        Assert.Equal(SelfFenceVerdict.None, SelfFencePolicy.Decide(Cut(3600, peers: 0)).Verdict);
    }

    [Fact]
    public void Self_fencing_off_never_fences()
    {
        Assert.Equal(SelfFenceVerdict.None, SelfFencePolicy.Decide(Cut(3600, settings: new SelfFenceSettings { Action = SelfFenceAction.Off })).Verdict);
    }

    [Fact]
    public void Fences_exactly_when_a_writable_primary_with_peers_was_silent_longer_than_the_bound()
    {
        Gen.Select(Gen.Int[0, 10_000], Gen.Int[0, 5], Gen.Int[100, 5000], Gen.Bool).Sample((silentMs, peers, boundMs, writable) =>
        {
            var settings = new SelfFenceSettings { After = TimeSpan.FromMilliseconds(boundMs) };
            var verdict = SelfFencePolicy.Decide(Cut(silentMs / 1000.0, peers, writable, settings)).Verdict;
            var expected = peers > 0 && silentMs > boundMs && writable;
            Assert.Equal(expected, verdict == SelfFenceVerdict.Fence);
            if (silentMs <= boundMs || peers == 0) Assert.Equal(SelfFenceVerdict.None, verdict);
        });
    }

    [Fact]
    public void A_fence_is_lifted_when_the_tier_kept_its_term_and_primary_and_its_other_replicas_agree()
    {
        var d = SelfFencePolicy.Decide(Back(Fenced(4), new TierAnswer(4, "oltp-a"), StandbyInTerm4));
        Assert.Equal(SelfFenceVerdict.Unfence, d.Verdict);
        Assert.Contains("still in term 4 with primary oltp-a", d.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fence_stays_when_the_tier_moved_on_and_the_tier_rejoins_the_old_primary()
    {
        Assert.Equal(SelfFenceVerdict.Release, SelfFencePolicy.Decide(Back(Fenced(4), new TierAnswer(5, "oltp-b"), StandbyInTerm4)).Verdict);
    }

    [Fact]
    public void A_stale_tier_activation_saying_nothing_changed_does_not_lift_a_fence_while_another_replica_took_over()
    {
        var promoted = new OtherReplica("oltp-b", Answered: true, Writable: true, Term: 5);
        var d = SelfFencePolicy.Decide(Back(Fenced(4), new TierAnswer(4, "oltp-a"), promoted));
        Assert.Equal(SelfFenceVerdict.Release, d.Verdict);
        Assert.Contains("oltp-b is writable (term 5)", d.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fence_stays_while_the_tier_cannot_be_asked_or_no_other_replica_confirms()
    {
        Assert.Equal(SelfFenceVerdict.StayFenced, SelfFencePolicy.Decide(Back(Fenced(4), null, StandbyInTerm4)).Verdict);
        var silent = new OtherReplica("oltp-b", Answered: false, Writable: false, Term: null);
        Assert.Equal(SelfFenceVerdict.StayFenced, SelfFencePolicy.Decide(Back(Fenced(4), new TierAnswer(4, "oltp-a"), silent)).Verdict);
    }

    [Fact]
    public void A_fence_is_lifted_only_when_the_tiers_term_and_primary_are_those_it_was_put_up_in_and_no_replica_moved_on()
    {
        var names = Gen.OneOf("oltp-a", "oltp-b", "oltp-c");
        var other = Gen.Select(names, Gen.Bool, Gen.Bool, Gen.Long[0, 8].Nullable(), (n, answered, writable, term) => new OtherReplica(n, answered, writable, term));
        Gen.Select(Gen.Long[1, 8].Nullable(), Gen.Long[1, 8], names, other.Array[0, 3]).Sample((fencedTerm, tierTerm, primary, others) =>
        {
            var verdict = SelfFencePolicy.Decide(Back(Fenced(fencedTerm), new TierAnswer(tierTerm, primary), others)).Verdict;
            var movedOn = others.Any(o => o.Answered && (o.Writable || o.Term > (fencedTerm ?? 0)));
            var same = fencedTerm == tierTerm && primary == "oltp-a";
            var confirmed = others.Length == 0 || others.Any(o => o.Answered);
            Assert.Equal(!movedOn && same && confirmed, verdict == SelfFenceVerdict.Unfence);
            Assert.NotEqual(SelfFenceVerdict.Fence, verdict);
        });
    }

    [Fact]
    public void The_bound_must_end_before_the_cluster_can_vote_a_silo_dead()
    {
        Assert.Empty(new SelfFenceSettings().Validate(TimeSpan.FromSeconds(1)));
        var error = Assert.Single(new SelfFenceSettings { After = TimeSpan.FromSeconds(3) }.Validate(TimeSpan.FromSeconds(1)));
        Assert.Contains("ControlPlane:Host:SelfFence:After is 00:00:03", error, StringComparison.Ordinal);
        Assert.Contains("3 × ControlPlane:Cluster:ProbeTimeout = 00:00:03", error, StringComparison.Ordinal);
        Assert.Empty(new SelfFenceSettings { After = TimeSpan.FromSeconds(3), Action = SelfFenceAction.Off }.Validate(TimeSpan.FromSeconds(1)));
    }
}
