using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Health;
using ControlPlane.Tests.Health;
using Xunit;

namespace ControlPlane.Tests.Failover;

/// <summary>A standby whose slot the primary invalidated: reported, never promoted.</summary>
public sealed class BrokenStandbyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static readonly TierSpec Spec = new("local", "oltp", "oltp-1",
    [
        new ReplicaSpec("local", "oltp", "oltp-1", "127.0.0.1", 5432, "postgres", "postgres", "/secret", null),
        new ReplicaSpec("local", "oltp", "oltp-2", "127.0.0.1", 5433, "postgres", "postgres", "/secret", null),
        new ReplicaSpec("local", "oltp", "oltp-3", "127.0.0.1", 5434, "postgres", "postgres", "/secret", null),
    ]);

    private static Dictionary<string, ReplicaHealth> Latest(ReplicaHealth primary) => new()
    {
        ["oltp-1"] = primary,
        ["oltp-2"] = TierHealthPolicyTests.Standby("oltp-2"),
        ["oltp-3"] = TierHealthPolicyTests.Standby("oltp-3"),
    };

    [Fact]
    public void A_standby_whose_slot_the_primary_reports_lost_is_unhealthy_and_says_it_must_be_rebuilt()
    {
        var primary = TierHealthPolicyTests.Primary("oltp-1") with { LostSlots = ["oltp_2"] };
        var view = TierHealthPolicy.Evaluate(Spec, "oltp-1", 1, Latest(primary), Now, TimeSpan.FromSeconds(5));
        var broken = view.Replicas.Single(r => r.Name == "oltp-2");
        Assert.False(broken.Healthy);
        Assert.Contains("broken beyond streaming: its slot oltp_2 on primary oltp-1 is lost", broken.Problem, StringComparison.Ordinal);
        Assert.True(view.Replicas.Single(r => r.Name == "oltp-3").Healthy);
        Assert.Equal(TierHealth.Degraded, view.Health);
    }

    [Fact]
    public void A_manual_failover_to_a_broken_standby_is_refused_with_the_reason_even_when_data_loss_is_allowed()
    {
        var primary = TierHealthPolicyTests.Down("oltp-1") with { LostSlots = ["oltp_2"] };
        var view = FailoverFacts.Build(Spec, new FailoverSettings(), false, 1, "oltp-1", Latest(primary), Now, TimeSpan.FromSeconds(5));
        var election = FailoverPolicy.Elect(view, "oltp-2", allowDataLoss: true, ElectionPurpose.Failover);
        Assert.Null(election.Candidate);
        Assert.Contains("oltp-2 cannot be promoted: broken beyond streaming", election.Reason, StringComparison.Ordinal);
        Assert.Equal("oltp-3", FailoverPolicy.Elect(view, null, allowDataLoss: false, ElectionPurpose.Failover).Candidate);
    }

    [Fact]
    public void Intact_slots_break_nothing()
    {
        Assert.Null(BrokenStandby.Reason("oltp-2", "oltp-1", TierHealthPolicyTests.Primary("oltp-1") with { LostSlots = ["oltp_3"] }));
        Assert.Null(BrokenStandby.Reason("oltp-2", "oltp-1", TierHealthPolicyTests.Primary("oltp-1")));
        Assert.Null(BrokenStandby.Reason("oltp-2", "oltp-1", null));
    }
}
