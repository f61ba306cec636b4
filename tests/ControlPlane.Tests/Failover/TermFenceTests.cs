using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Failover;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Failover;

/// <summary>The term only goes up: whatever the catalog, the journal and the instances say, in any order.</summary>
public sealed class TermFenceTests
{
    private static readonly Gen<TierTerm> TermGen =
        Gen.Select(Gen.Long[1, 50], Gen.Int[0, 3], (term, primary) => new TierTerm(term, $"r{primary}"));

    [Fact]
    public void The_reconciled_term_is_never_lower_than_any_input() =>
        Gen.Select(TermGen, TermGen.List[0, 6]).Sample((current, observed) =>
        {
            var reconciled = TermFence.Reconcile(current, observed);
            Assert.True(reconciled.Term >= current.Term);
            Assert.All(observed, o => Assert.True(reconciled.Term >= o.Term, $"{reconciled} is below {o}"));
            // The primary is the one named with that term, never one mixed from another source.
            Assert.Contains(reconciled, observed.Append(current));
        });

    [Fact]
    public void A_tie_keeps_the_primary_the_tier_already_names() =>
        Assert.Equal(new TierTerm(7, "a"), TermFence.Reconcile(new TierTerm(7, "a"), [new TierTerm(7, "b"), new TierTerm(6, "c")]));

    [Fact]
    public void A_catalog_restored_from_an_old_backup_is_raised_to_the_fleet_with_its_primary() =>
        Assert.Equal(new TierTerm(9, "b"), TermFence.Reconcile(new TierTerm(4, "a"), [new TierTerm(9, "b"), new TierTerm(8, "a")]));

    [Fact]
    public void A_decision_is_never_taken_in_a_term_at_or_below_one_seen_in_the_fleet() =>
        Gen.Select(Gen.Long[1, 50], Gen.Long[1, 60].List[0, 6], Gen.Bool).Sample((current, observed, unclean) =>
        {
            var next = TermFence.NextTerm(current, observed, unclean);
            Assert.True(TermFence.MayDecide(next, current, observed));
            Assert.All(observed, o => Assert.True(next > o));
            Assert.True(next > current);
        });

    [Fact]
    public void After_an_unclean_handover_one_term_is_burnt() =>
        Assert.Equal(7, TermFence.NextTerm(5, [3, 4], uncleanHandover: true));

    [Fact]
    public void MayDecide_refuses_a_term_equal_to_one_an_instance_carries() =>
        Assert.False(TermFence.MayDecide(6, 5, [6]));

    [Fact]
    public void A_replica_refuses_a_command_older_than_its_instance_or_its_memory() =>
        Gen.Select(Gen.Long[0, 20], Gen.Long[0, 20], Gen.Long[0, 20], Gen.Select(Gen.Long[0, 20], Gen.Bool, (v, has) => has ? v : (long?)null)).Sample((term, persisted, remembered, instance) =>
        {
            var accepted = TermFence.Accepts(term, persisted, remembered, instance);
            var floor = Math.Max(Math.Max(persisted, remembered), instance ?? 0);
            Assert.Equal(term >= floor, accepted);
        });

    [Fact]
    public void Observed_ignores_replicas_without_a_term() =>
        Assert.Equal([new TierTerm(3, "a")], TermFence.Observed([Health("a", 3, "a"), Health("b", null, null), Health("c", 0, "x")]).ToList());

    [Theory]
    [InlineData("12 oltp-1", 12L, "oltp-1")]
    [InlineData("1 a", 1L, "a")]
    public void The_probe_column_parses_term_and_primary(string value, long term, string primary) =>
        Assert.Equal(new TermMark(term, primary), TermHistory.Parse(value));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("12")]
    [InlineData("x a")]
    [InlineData("-3 a")]
    [InlineData("0 a")]
    [InlineData("5 ")]
    public void An_unexpected_probe_column_is_no_term(string? value) => Assert.Null(TermHistory.Parse(value));

    private static ReplicaHealth Health(string name, long? term, string? primary) => new(
        name, DateTimeOffset.UnixEpoch, true, null, true, 1, null, null, null, null, null, 0, 100, "15", 1, 0,
        InstanceTerm: term, InstanceTermPrimary: primary);
}
