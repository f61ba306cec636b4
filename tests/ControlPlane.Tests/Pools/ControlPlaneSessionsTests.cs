using ControlPlane.Grains.Changes;
using ControlPlane.Grains.Pools;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Pools;

/// <summary>The control plane's own pool tenant (schema-change sessions) beside the tenants' plans.</summary>
public sealed class ControlPlaneSessionsTests
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static LeaseRecord Lease(string tenant, long n, int requested) =>
        new($"oltp.{tenant}.{n}", "oltp", tenant, "svc", requested, LeaseAccess.ReadWrite, 0, TimeSpan.FromSeconds(30), Now, Now.AddSeconds(30), LeaseState.Active, 1);

    [Fact]
    public void The_reserved_name_is_refused_with_a_reason_and_every_other_name_is_not()
    {
        Assert.Contains("reserved", ControlPlaneSessions.Reserved(ControlPlaneSessions.Tenant), StringComparison.Ordinal);
        Assert.Null(ControlPlaneSessions.Reserved("acme"));
        Assert.Null(ControlPlaneSessions.Reserved("controlplane-2"));
    }

    [Fact]
    public void The_built_in_plan_joins_the_tenants_plans_and_wins_over_a_tenant_of_its_name()
    {
        var plans = new Dictionary<string, TenantPlan>
        {
            ["acme"] = new("oltp", 5, 2, 10),
            [ControlPlaneSessions.Tenant] = new("oltp", 1000, 500, 500),
        };
        var merged = ControlPlaneSessions.WithBuiltIn(plans, "oltp");
        Assert.Equal(plans["acme"], merged["acme"]);
        Assert.Equal(ControlPlaneSessions.PlanFor("oltp"), merged[ControlPlaneSessions.Tenant]);
        Assert.Equal(new TenantPlan("oltp", 1, 1, TenantPlan.MaxConnections), merged[ControlPlaneSessions.Tenant]);
        Assert.Equal(500, plans[ControlPlaneSessions.Tenant].Min); // the input is not changed
    }

    [Fact]
    public void A_change_lease_gets_at_least_one_session_when_the_tenants_minimums_leave_one_and_never_takes_from_their_minimums()
    {
        Gen.Select(Gen.Int[1, 60], Gen.Int[0, 40], Gen.Int[1, 64]).Sample((capacity, tenantMin, wanted) =>
        {
            var plans = ControlPlaneSessions.WithBuiltIn(new Dictionary<string, TenantPlan> { ["acme"] = new("oltp", 10, tenantMin, 100) }, "oltp");
            var plan = PoolPlanner.Plan(capacity, plans, [Lease("acme", 1, 100), Lease(ControlPlaneSessions.Tenant, 2, wanted)]);
            if (tenantMin + 1 > capacity)
            {
                Assert.False(plan.Feasible);
                return;
            }
            Assert.True(plan.Feasible);
            var change = plan.LeaseGrants["oltp.controlplane.2"];
            Assert.InRange(change, 1, wanted);
            Assert.True(plan.LeaseGrants["oltp.acme.1"] >= tenantMin);
            Assert.True(change + plan.LeaseGrants["oltp.acme.1"] <= capacity);
        });
    }

    [Fact]
    public void A_batch_runs_as_many_targets_at_once_as_the_strategy_allows_and_the_lease_grants()
    {
        Assert.Equal(4, ChangeRolloutPolicy.Sessions(concurrency: 4, granted: 10));
        Assert.Equal(3, ChangeRolloutPolicy.Sessions(concurrency: 8, granted: 3));
        Assert.Equal(1, ChangeRolloutPolicy.Sessions(concurrency: 8, granted: 0));
    }
}
