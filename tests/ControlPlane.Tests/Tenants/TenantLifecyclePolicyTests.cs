using ControlPlane.Grains.Tenants;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Tenants;

/// <summary>The tenant lifecycle as properties over random command sequences, plus the transitions the API promises.</summary>
public sealed class TenantLifecyclePolicyTests
{
    private static readonly string[] Tiers = ["oltp", "content"];
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly Gen<TenantCommand> CommandGen = Gen.Enum<TenantCommand>();

    /// <summary>A command sequence; each command either completes its steps or stops after some (a failed step).</summary>
    private static readonly Gen<List<(TenantCommand Command, bool Completes)>> SequenceGen =
        Gen.Select(CommandGen, Gen.Bool, (c, done) => (c, done)).List[1, 30];

    private sealed class Tenant
    {
        public TenantLifecycle? State { get; set; }
        public TenantOperation? Running { get; set; }
    }

    /// <summary>What the grain does with a decision: the transient state at once, the target when the steps complete.</summary>
    private static TenantDecision Apply(Tenant tenant, TenantCommand command, bool completes)
    {
        var decision = TenantLifecyclePolicy.Decide(tenant.State, tenant.Running, command, Tiers, Tiers);
        if (!decision.Allowed) return decision;
        if (!decision.NoChange)
        {
            tenant.State = decision.Transient;
            tenant.Running = new TenantOperation("op", command, decision.Target, decision.Steps, 0, "test", T0);
        }
        if (completes && tenant.Running is { Done: false } op)
        {
            tenant.State = op.Target;
            tenant.Running = op with { Next = op.Steps.Count };
        }
        return decision;
    }

    [Fact]
    public void Nothing_but_register_is_accepted_for_a_tenant_never_registered()
    {
        foreach (var command in Enum.GetValues<TenantCommand>())
        {
            var decision = TenantLifecyclePolicy.Decide(null, null, command, Tiers, Tiers);
            Assert.Equal(command == TenantCommand.Register ? TenantRefusal.None : TenantRefusal.NotFound, decision.Refusal);
        }
    }

    [Fact]
    public void Resuming_or_erasing_an_erased_tenant_is_an_illegal_transition()
    {
        var resume = TenantLifecyclePolicy.Decide(TenantLifecycle.Erased, null, TenantCommand.Resume, Tiers, Tiers);
        var erase = TenantLifecyclePolicy.Decide(TenantLifecycle.Erased, null, TenantCommand.Erase, Tiers, Tiers);
        Assert.Equal(TenantRefusal.Illegal, resume.Refusal);
        Assert.Contains("erased", resume.Reason, StringComparison.Ordinal);
        Assert.Equal(TenantRefusal.Illegal, erase.Refusal);
        Assert.Contains("already erased", erase.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Suspending_a_suspended_tenant_and_resuming_an_active_one_change_nothing()
    {
        Assert.True(TenantLifecyclePolicy.Decide(TenantLifecycle.Suspended, null, TenantCommand.Suspend, Tiers, Tiers).NoChange);
        Assert.True(TenantLifecyclePolicy.Decide(TenantLifecycle.Active, null, TenantCommand.Resume, Tiers, Tiers).NoChange);
    }

    [Fact]
    public void An_erased_name_may_be_registered_again_but_a_live_one_not()
    {
        Assert.True(TenantLifecyclePolicy.Decide(TenantLifecycle.Erased, null, TenantCommand.Register, Tiers, Tiers).Allowed);
        Assert.Equal(TenantRefusal.Exists, TenantLifecyclePolicy.Decide(TenantLifecycle.Suspended, null, TenantCommand.Register, Tiers, Tiers).Refusal);
    }

    [Fact]
    public void A_registration_that_cannot_finish_can_still_be_erased()
    {
        var register = TenantLifecyclePolicy.Decide(null, null, TenantCommand.Register, Tiers, Tiers);
        var stuck = new TenantOperation("op", TenantCommand.Register, TenantLifecycle.Active, register.Steps, 0, "test", T0, "tier down", 3);
        var erase = TenantLifecyclePolicy.Decide(TenantLifecycle.Registering, stuck, TenantCommand.Erase, Tiers, Tiers);
        Assert.True(erase.Allowed);
        Assert.Equal(TenantLifecycle.Erasing, erase.Transient);
        Assert.Equal(TenantRefusal.Illegal, TenantLifecyclePolicy.Decide(TenantLifecycle.Registering, stuck, TenantCommand.Suspend, Tiers, Tiers).Refusal);
    }

    [Fact]
    public void Once_erased_only_register_is_ever_accepted() =>
        SequenceGen.Sample(sequence =>
        {
            var tenant = new Tenant();
            foreach (var (command, completes) in sequence)
            {
                var wasErased = tenant.State == TenantLifecycle.Erased && tenant.Running is not { Done: false };
                var decision = Apply(tenant, command, completes);
                if (wasErased && command != TenantCommand.Register) Assert.False(decision.Allowed && !decision.NoChange, $"{command} accepted on an erased tenant");
            }
        });

    [Fact]
    public void A_registered_tenant_is_never_reported_missing() =>
        SequenceGen.Sample(sequence =>
        {
            var tenant = new Tenant();
            foreach (var (command, completes) in sequence)
            {
                var registered = tenant.State is not null;
                var decision = Apply(tenant, command, completes);
                if (registered) Assert.NotEqual(TenantRefusal.NotFound, decision.Refusal);
            }
        });

    [Fact]
    public void While_an_operation_is_under_way_only_the_same_command_or_an_erase_of_a_registration_is_accepted() =>
        SequenceGen.Sample(sequence =>
        {
            var tenant = new Tenant();
            foreach (var (command, completes) in sequence)
            {
                var running = tenant.Running is { Done: false } op ? op : null;
                var decision = Apply(tenant, command, completes);
                if (running is null || !decision.Allowed) continue;
                Assert.True(decision.NoChange == (running.Command == command)
                            || (command == TenantCommand.Erase && running.Command == TenantCommand.Register),
                    $"{command} accepted during {running.Command}");
            }
        });

    [Fact]
    public void Every_operation_ends_with_finish_and_never_drops_before_locking_and_revoking() =>
        Gen.Select(Gen.Enum<TenantLifecycle>(), CommandGen, Gen.String[Gen.Char['a', 'e'], 1, 3].Array[0, 3], (s, c, t) => (s, c, t))
            .Sample(x =>
            {
                var tiers = x.Item3.Distinct().ToList();
                var decision = TenantLifecyclePolicy.Decide(x.s, null, x.c, tiers, tiers);
                if (!decision.Allowed || decision.NoChange) return;
                Assert.Equal(TenantStepKind.Finish, decision.Steps[^1].Kind);
                Assert.Single(decision.Steps, s => s.Kind == TenantStepKind.Finish);
                var steps = decision.Steps.ToList();
                foreach (var tier in tiers)
                {
                    var drop = steps.FindIndex(s => s.Kind == TenantStepKind.Drop && s.Tier == tier);
                    if (drop < 0) continue;
                    Assert.True(steps.FindIndex(s => s.Kind == TenantStepKind.Lock && s.Tier == tier) is >= 0 and var l && l < drop);
                    Assert.True(steps.FindIndex(s => s.Kind == TenantStepKind.Pools && s.Tier == tier) < drop);
                }
                var index = steps.FindIndex(s => s.Kind == TenantStepKind.Index);
                var pools = steps.FindIndex(s => s.Kind == TenantStepKind.Pools);
                if (x.c is TenantCommand.Suspend or TenantCommand.Erase && pools >= 0) Assert.True(index < pools, "the index must drop the tenant before its leases are revoked");
            });

    [Fact]
    public void Suspend_then_resume_comes_back_to_active_and_every_state_is_reachable_only_through_its_command()
    {
        var tenant = new Tenant();
        Apply(tenant, TenantCommand.Register, true);
        Assert.Equal(TenantLifecycle.Active, tenant.State);
        Apply(tenant, TenantCommand.Suspend, true);
        Assert.Equal(TenantLifecycle.Suspended, tenant.State);
        Apply(tenant, TenantCommand.Resume, true);
        Assert.Equal(TenantLifecycle.Active, tenant.State);
        Apply(tenant, TenantCommand.Erase, false);
        Assert.Equal(TenantLifecycle.Erasing, tenant.State);
        Assert.True(Apply(tenant, TenantCommand.Erase, true).NoChange);
        Assert.Equal(TenantLifecycle.Erased, tenant.State);
    }
}
