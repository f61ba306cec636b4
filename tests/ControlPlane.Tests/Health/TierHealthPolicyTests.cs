using ControlPlane.Grains.Health;
using Xunit;

namespace ControlPlane.Tests.Health;

public sealed class TierHealthPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Stale = TimeSpan.FromSeconds(5);

    private static TierSpec Spec(params string[] replicas) => new("local", "oltp", replicas[0],
        replicas.Select((r, i) => new ReplicaSpec("local", "oltp", r, "127.0.0.1", 5432 + i, "postgres", "postgres", "/secret", null)).ToList());

    internal static ReplicaHealth Primary(string name, ulong lsn = 1000, DateTimeOffset? at = null) =>
        new(name, at ?? Now, true, null, false, 1, lsn, null, null, null, null, 5, 100, "15.8", 1.2, 0);

    internal static ReplicaHealth Standby(string name, ulong replay = 1000, string? receiver = "streaming", double lagSeconds = 0, DateTimeOffset? at = null) =>
        new(name, at ?? Now, true, null, true, 1, null, replay, replay, lagSeconds, receiver, 2, 100, "15.8", 1.5, 0);

    internal static ReplicaHealth Down(string name, int failures = 3) =>
        new(name, Now, false, "connection refused", false, null, null, null, null, null, null, 0, 0, null, 800, failures);

    private static TierView Evaluate(TierSpec spec, params ReplicaHealth[] reports) =>
        TierHealthPolicy.Evaluate(spec, spec.InitialPrimary, 1, reports.ToDictionary(r => r.Name), Now, Stale);

    [Fact]
    public void Tier_is_healthy_when_the_primary_is_writable_and_every_standby_streams()
    {
        var view = Evaluate(Spec("oltp-1", "oltp-2"), Primary("oltp-1"), Standby("oltp-2"));
        Assert.Equal(TierHealth.Healthy, view.Health);
        Assert.All(view.Replicas, r => Assert.True(r.Healthy));
        Assert.Equal("", view.HealthReason);
    }

    [Fact]
    public void Tier_is_degraded_when_a_standby_is_unreachable_and_names_it()
    {
        var view = Evaluate(Spec("oltp-1", "oltp-2"), Primary("oltp-1"), Down("oltp-2"));
        Assert.Equal(TierHealth.Degraded, view.Health);
        Assert.Contains("oltp-2", view.HealthReason, StringComparison.Ordinal);
        Assert.False(view.Replicas.Single(r => r.Name == "oltp-2").Reachable);
    }

    [Fact]
    public void Tier_is_down_when_the_primary_is_unreachable()
    {
        var view = Evaluate(Spec("oltp-1", "oltp-2"), Down("oltp-1"), Standby("oltp-2"));
        Assert.Equal(TierHealth.Down, view.Health);
        Assert.StartsWith("primary oltp-1", view.HealthReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Tier_is_down_when_the_primary_is_in_recovery()
    {
        var view = Evaluate(Spec("oltp-1", "oltp-2"), Standby("oltp-1"), Standby("oltp-2"));
        Assert.Equal(TierHealth.Down, view.Health);
        Assert.Contains("in recovery", view.HealthReason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_standby_whose_wal_receiver_is_not_streaming_is_unhealthy()
    {
        var view = Evaluate(Spec("oltp-1", "oltp-2"), Primary("oltp-1"), Standby("oltp-2", receiver: null));
        var standby = view.Replicas.Single(r => r.Name == "oltp-2");
        Assert.False(standby.Healthy);
        Assert.Equal("WAL receiver not running", standby.Problem);
        Assert.Equal(TierHealth.Degraded, view.Health);
    }

    [Fact]
    public void A_writable_replica_that_is_not_the_primary_is_flagged()
    {
        var view = Evaluate(Spec("oltp-1", "oltp-2"), Primary("oltp-1"), Primary("oltp-2"));
        var rogue = view.Replicas.Single(r => r.Name == "oltp-2");
        Assert.False(rogue.Healthy);
        Assert.Equal(ReplicaRole.Primary, rogue.Role);
        Assert.Contains("not the primary of term 1", rogue.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Standby_lag_in_bytes_is_measured_against_the_primary_current_lsn()
    {
        var view = Evaluate(Spec("oltp-1", "oltp-2"), Primary("oltp-1", lsn: 5000), Standby("oltp-2", replay: 3000, lagSeconds: 0.25));
        var standby = view.Replicas.Single(r => r.Name == "oltp-2");
        Assert.Equal(2000, standby.LagBytes);
        Assert.Equal(0.25, standby.LagSeconds);
    }

    [Fact]
    public void Lag_is_never_negative_when_the_standby_probe_is_newer_than_the_primary_probe()
    {
        var view = Evaluate(Spec("oltp-1", "oltp-2"), Primary("oltp-1", lsn: 1000), Standby("oltp-2", replay: 1500));
        Assert.Equal(0, view.Replicas.Single(r => r.Name == "oltp-2").LagBytes);
    }

    [Fact]
    public void A_replica_that_stopped_reporting_counts_as_unreachable()
    {
        var view = Evaluate(Spec("oltp-1", "oltp-2"), Primary("oltp-1"), Standby("oltp-2", at: Now - TimeSpan.FromSeconds(30)));
        var standby = view.Replicas.Single(r => r.Name == "oltp-2");
        Assert.False(standby.Reachable);
        Assert.Equal("no probe for more than 5s", standby.Problem);
    }

    [Fact]
    public void A_replica_never_probed_is_unknown_and_unhealthy()
    {
        var view = Evaluate(Spec("oltp-1", "oltp-2"), Primary("oltp-1"));
        var standby = view.Replicas.Single(r => r.Name == "oltp-2");
        Assert.Equal(ReplicaRole.Unknown, standby.Role);
        Assert.Equal("not probed yet", standby.Problem);
    }

    [Fact]
    public void A_tier_whose_primary_is_not_one_of_its_replicas_is_down()
    {
        var spec = Spec("oltp-1", "oltp-2");
        var view = TierHealthPolicy.Evaluate(spec, "oltp-9", 1, new Dictionary<string, ReplicaHealth>(), Now, Stale);
        Assert.Equal(TierHealth.Down, view.Health);
    }
}
