using ControlPlane.Grains.Health;
using Xunit;

namespace ControlPlane.Tests.Health;

public sealed class TierChangeDetectorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static readonly TierSpec Spec = new("local", "oltp", "oltp-1",
    [
        new ReplicaSpec("local", "oltp", "oltp-1", "127.0.0.1", 5432, "postgres", "postgres", "/secret", null),
        new ReplicaSpec("local", "oltp", "oltp-2", "127.0.0.1", 5433, "postgres", "postgres", "/secret", null),
    ]);

    private static TierView View(params ReplicaHealth[] reports) =>
        TierHealthPolicy.Evaluate(Spec, "oltp-1", 1, reports.ToDictionary(r => r.Name), Now, TimeSpan.FromSeconds(5));

    private static TierSnapshot Snapshot(TierView view, long version = 1) =>
        new("local", "oltp", view.Health, view.HealthReason, "oltp-1", 1, version, view.Replicas, Now);

    [Fact]
    public void The_first_view_of_a_tier_is_a_structural_change()
    {
        var diff = TierChangeDetector.Diff(null, View(TierHealthPolicyTests.Primary("oltp-1")), "oltp-1", 1);
        Assert.Equal(["tier registered"], diff.Structural);
    }

    [Fact]
    public void An_identical_view_is_no_change()
    {
        var view = View(TierHealthPolicyTests.Primary("oltp-1"), TierHealthPolicyTests.Standby("oltp-2"));
        Assert.True(TierChangeDetector.Diff(Snapshot(view), view, "oltp-1", 1).IsEmpty);
    }

    [Fact]
    public void Probe_time_and_latency_alone_are_not_changes()
    {
        var before = View(TierHealthPolicyTests.Primary("oltp-1"), TierHealthPolicyTests.Standby("oltp-2"));
        var later = TierHealthPolicyTests.Standby("oltp-2", at: Now.AddSeconds(1)) with { ProbeLatencyMs = 9 };
        var after = View(TierHealthPolicyTests.Primary("oltp-1", at: Now.AddSeconds(1)), later);
        Assert.True(TierChangeDetector.Diff(Snapshot(before), after, "oltp-1", 1).IsEmpty);
    }

    [Fact]
    public void A_standby_going_down_is_structural_and_says_so()
    {
        var before = View(TierHealthPolicyTests.Primary("oltp-1"), TierHealthPolicyTests.Standby("oltp-2"));
        var after = View(TierHealthPolicyTests.Primary("oltp-1"), TierHealthPolicyTests.Down("oltp-2"));
        var diff = TierChangeDetector.Diff(Snapshot(before), after, "oltp-1", 1);
        Assert.Contains("health Healthy -> Degraded", diff.Structural);
        Assert.Contains("oltp-2 unreachable", diff.Structural);
    }

    [Fact]
    public void Lag_movement_is_a_measurement_not_a_structural_change()
    {
        var before = View(TierHealthPolicyTests.Primary("oltp-1", lsn: 1000), TierHealthPolicyTests.Standby("oltp-2", replay: 1000));
        var after = View(TierHealthPolicyTests.Primary("oltp-1", lsn: 4000), TierHealthPolicyTests.Standby("oltp-2", replay: 1000));
        var diff = TierChangeDetector.Diff(Snapshot(before), after, "oltp-1", 1);
        Assert.Empty(diff.Structural);
        Assert.Contains("oltp-2 lag 3000 B", diff.Measurements);
    }

    [Fact]
    public void A_new_term_and_primary_are_structural()
    {
        var view = View(TierHealthPolicyTests.Primary("oltp-1"), TierHealthPolicyTests.Standby("oltp-2"));
        var diff = TierChangeDetector.Diff(Snapshot(view), view, "oltp-2", 2);
        Assert.Contains("term 1 -> 2", diff.Structural);
        Assert.Contains("primary oltp-1 -> oltp-2", diff.Structural);
    }
}
