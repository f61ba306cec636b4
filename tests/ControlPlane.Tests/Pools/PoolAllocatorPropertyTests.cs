using ControlPlane.Grains.Pools;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Pools;

/// <summary>The allocator over the whole input space: up to forty claimants with random plans and demands.</summary>
public sealed class PoolAllocatorPropertyTests
{
    private static readonly Gen<PoolDemand> DemandGen =
        Gen.Select(Gen.Int[1, 20], Gen.Int[0, 30], Gen.Int[1, 80], Gen.Int[0, 100],
            (weight, min, max, requested) => new PoolDemand("", weight, Math.Min(min, max), max, requested));

    private static readonly Gen<(int Capacity, List<PoolDemand> Demands)> CaseGen =
        Gen.Select(Gen.Int[0, 400], DemandGen.List[0, 40],
            (capacity, demands) => (capacity, demands.Select((d, i) => d with { Key = $"t{i:D2}" }).ToList()));

    [Fact]
    public void Grants_never_exceed_the_capacity() =>
        CaseGen.Sample(c => Assert.True(PoolAllocator.Allocate(c.Capacity, c.Demands).Total <= c.Capacity));

    [Fact]
    public void Grants_never_exceed_demand_or_maximum() =>
        CaseGen.Sample(c =>
        {
            var allocation = PoolAllocator.Allocate(c.Capacity, c.Demands);
            foreach (var (d, g) in c.Demands.Zip(allocation.Grants))
            {
                Assert.Equal(d.Key, g.Key);
                Assert.InRange(g.Granted, 0, Math.Min(d.Requested, d.Max));
            }
        });

    [Fact]
    public void Minimums_are_honoured_whenever_they_fit() =>
        CaseGen.Sample(c =>
        {
            var floors = c.Demands.Sum(d => Math.Min(d.Min, Math.Min(d.Requested, d.Max)));
            var allocation = PoolAllocator.Allocate(c.Capacity, c.Demands);
            Assert.Equal(floors <= c.Capacity, allocation.MinimumsMet);
            if (!allocation.MinimumsMet) return;
            foreach (var (d, g) in c.Demands.Zip(allocation.Grants)) Assert.True(g.Granted >= Math.Min(d.Min, Math.Min(d.Requested, d.Max)));
        });

    [Fact]
    public void Capacity_is_not_left_idle_while_someone_wants_more() =>
        CaseGen.Sample(c =>
        {
            var allocation = PoolAllocator.Allocate(c.Capacity, c.Demands);
            if (!allocation.MinimumsMet) return;
            var wanting = c.Demands.Zip(allocation.Grants).Any(p => p.Second.Granted < Math.Min(p.First.Requested, p.First.Max));
            if (wanting) Assert.Equal(c.Capacity, allocation.Total);
        });

    [Fact]
    public void Raising_a_weight_never_lowers_that_grant() =>
        Gen.Select(CaseGen, Gen.Int[0, 39], Gen.Int[1, 50]).Sample((c, pick, more) =>
        {
            if (c.Demands.Count == 0) return;
            var i = pick % c.Demands.Count;
            var before = PoolAllocator.Allocate(c.Capacity, c.Demands).Grants[i].Granted;
            var heavier = c.Demands.Select((d, j) => j == i ? d with { Weight = d.Weight + more } : d).ToList();
            Assert.True(PoolAllocator.Allocate(c.Capacity, heavier).Grants[i].Granted >= before);
        });

    [Fact]
    public void The_same_input_gives_the_same_grants_in_any_order() =>
        CaseGen.Sample(c =>
        {
            var once = PoolAllocator.Allocate(c.Capacity, c.Demands).Grants.ToDictionary(g => g.Key, g => g.Granted);
            var reversed = Enumerable.Reverse(c.Demands).ToList();
            var again = PoolAllocator.Allocate(c.Capacity, reversed).Grants.ToDictionary(g => g.Key, g => g.Granted);
            Assert.Equal(once, again);
        });
}
