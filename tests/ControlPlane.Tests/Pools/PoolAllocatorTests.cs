using ControlPlane.Grains.Pools;
using Xunit;

namespace ControlPlane.Tests.Pools;

public sealed class PoolAllocatorTests
{
    [Fact]
    public void Minimums_first_then_the_rest_by_weight()
    {
        var allocation = PoolAllocator.Allocate(40,
        [
            new PoolDemand("acme", 3, 5, 40, 100),
            new PoolDemand("globex", 2, 2, 20, 100),
            new PoolDemand("initech", 1, 1, 10, 100),
        ]);
        // 8 for the minimums, 32 by 3:2:1 -> 16, 11, 5 (D'Hondt), on top of 5, 2, 1.
        Assert.Equal(21, allocation.GrantOf("acme"));
        Assert.Equal(13, allocation.GrantOf("globex"));
        Assert.Equal(6, allocation.GrantOf("initech"));
        Assert.Equal(40, allocation.Total);
    }

    [Fact]
    public void What_a_capped_claimant_cannot_take_goes_to_the_others()
    {
        var allocation = PoolAllocator.Allocate(30, [new PoolDemand("small", 10, 0, 3, 50), new PoolDemand("big", 1, 0, 100, 50)]);
        Assert.Equal(3, allocation.GrantOf("small"));
        Assert.Equal(27, allocation.GrantOf("big"));
    }

    [Fact]
    public void Unmet_minimums_are_reported_and_never_over_committed()
    {
        var allocation = PoolAllocator.Allocate(6, [new PoolDemand("a", 1, 5, 10, 10), new PoolDemand("b", 1, 5, 10, 10)]);
        Assert.False(allocation.MinimumsMet);
        Assert.Equal(10, allocation.MinimumsNeeded);
        Assert.Equal(6, allocation.Total);
    }

    [Fact]
    public void Planner_refuses_a_newcomer_whose_tenant_cannot_give_each_lease_a_connection()
    {
        var plans = new Dictionary<string, TenantPlan> { ["acme"] = new("oltp", 1, 0, 2) };
        var now = DateTimeOffset.UtcNow;
        LeaseRecord Lease(string id) => new(id, "oltp", "acme", "svc", 5, LeaseAccess.ReadWrite, 0, TimeSpan.FromSeconds(30), now, now.AddSeconds(30), LeaseState.Active, 1);
        Assert.True(PoolPlanner.Plan(50, plans, [Lease("oltp.acme.1"), Lease("oltp.acme.2")]).Feasible);
        var plan = PoolPlanner.Plan(50, plans, [Lease("oltp.acme.1"), Lease("oltp.acme.2"), Lease("oltp.acme.3")]);
        Assert.False(plan.Feasible);
        Assert.Contains("tenant 'acme' holds 3 lease(s) but its grant is 2", plan.Shortfall, StringComparison.Ordinal);
    }

    [Fact]
    public void Planner_splits_a_tenant_grant_among_its_leases()
    {
        var plans = new Dictionary<string, TenantPlan> { ["acme"] = new("oltp", 1, 0, 10), ["globex"] = new("oltp", 1, 0, 10) };
        var now = DateTimeOffset.UtcNow;
        LeaseRecord Lease(string id, string tenant, int requested) =>
            new(id, "oltp", tenant, "svc", requested, LeaseAccess.ReadWrite, 0, TimeSpan.FromSeconds(30), now, now.AddSeconds(30), LeaseState.Active, 1);
        var plan = PoolPlanner.Plan(12, plans, [Lease("oltp.acme.1", "acme", 8), Lease("oltp.acme.2", "acme", 2), Lease("oltp.globex.3", "globex", 20)]);
        Assert.Equal(6, plan.TenantGrants["acme"]);
        Assert.Equal(6, plan.TenantGrants["globex"]);
        Assert.Equal(4, plan.LeaseGrants["oltp.acme.1"]);
        Assert.Equal(2, plan.LeaseGrants["oltp.acme.2"]);
    }

    [Fact]
    public void Capacity_subtracts_reserves_and_headroom_and_wal_senders_only_before_pg12()
    {
        var sample = new ReplicaPoolSample("oltp-1", DateTimeOffset.UtcNow, false, 100, 3, 0, 10, 150000, []);
        Assert.Equal(100 - 3 - 5 - 10, PoolCapacity.Of(sample, new PoolSettings()));
        Assert.Equal(100 - 3 - 10 - 5 - 10, PoolCapacity.Of(sample with { ServerVersionNum = 110000 }, new PoolSettings()));
        Assert.Equal(0, PoolCapacity.Of(sample with { MaxConnections = 5 }, new PoolSettings()));
    }
}
