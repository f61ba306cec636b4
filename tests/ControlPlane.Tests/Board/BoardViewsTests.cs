using ControlPlane.Grains.Backups;
using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Health;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Grains.Pools;
using ControlPlane.Silo.Board;
using Xunit;

namespace ControlPlane.Tests.Board;

public sealed class BoardViewsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 21, 0, 0, TimeSpan.Zero);

    private static ReplicaStatus Replica(string name, ReplicaRole role, bool healthy = true, long lagBytes = 0, double lagSeconds = 0) =>
        new(name, "127.0.0.1", 5432, role, healthy, healthy, lagBytes, lagSeconds, 3, 100, Now, 0, 1, null, null, null, null, "15.8", 1.0, healthy ? "" : "unreachable");

    private static TierSnapshot Tier(string name, TierHealth health, params ReplicaStatus[] replicas) =>
        new("local", name, health, health == TierHealth.Healthy ? "" : "a standby is behind", replicas[0].Name, 3, 42, replicas, Now);

    [Fact]
    public void Tier_view_lists_the_primary_first_and_reports_no_lag_for_it()
    {
        var view = BoardViews.Tier(Tier("oltp", TierHealth.Healthy,
            Replica("oltp-2", ReplicaRole.Standby, lagBytes: 2048, lagSeconds: 0.12345),
            Replica("oltp-1", ReplicaRole.Primary, lagBytes: 999, lagSeconds: 9)) with { Primary = "oltp-1" });

        Assert.Equal(["oltp-1", "oltp-2"], view.Replicas.Select(r => r.Name));
        Assert.Equal((0L, 0.0), (view.Replicas[0].LagBytes, view.Replicas[0].LagSeconds));
        Assert.Equal((2048L, 0.123), (view.Replicas[1].LagBytes, view.Replicas[1].LagSeconds));
        Assert.Equal(("healthy", "primary", "127.0.0.1:5432"), (view.Health, view.Replicas[0].Role, view.Replicas[0].Address));
    }

    [Fact]
    public void Tier_view_gathers_the_failover_pool_and_backup_alerts_leaving_out_empty_ones()
    {
        var snapshot = Tier("queue", TierHealth.Degraded, Replica("queue-1", ReplicaRole.Primary)) with { Alert = "", PoolAlert = "pool over-committed", BackupAlert = "RPO 9s above target 1s" };
        Assert.Equal(["pool over-committed", "RPO 9s above target 1s"], BoardViews.Tier(snapshot).Alerts);
    }

    [Fact]
    public void Fleet_view_counts_tiers_by_health()
    {
        var fleet = BoardViews.Fleet("local", [
            Tier("oltp", TierHealth.Healthy, Replica("oltp-1", ReplicaRole.Primary)),
            Tier("content", TierHealth.Healthy, Replica("content-1", ReplicaRole.Primary)),
            Tier("queue", TierHealth.Degraded, Replica("queue-1", ReplicaRole.Primary)),
            Tier("olap", TierHealth.Down, Replica("olap-1", ReplicaRole.Primary, healthy: false)),
        ]);
        Assert.Equal((2, 1, 1, 0), (fleet.Healthy, fleet.Degraded, fleet.Down, fleet.Unknown));
        Assert.Equal(4, fleet.Tiers.Count);
    }

    private static PoolBudget Budget(int capacity, params (string Tenant, int Granted)[] tenants) => new(
        "local", "oltp", capacity, capacity, 2,
        tenants.Select(t => new TenantBudget(t.Tenant, t.Granted, 1, 0, 0, 0, 0, 1, 1, new TenantPlan("oltp", 10, 2, 40))).ToList(),
        [], "oltp-1", Now, new PoolSettings(), 100);

    [Fact]
    public void Pool_view_sums_grants_against_capacity_largest_tenant_first()
    {
        var pool = BoardViews.Pool(Budget(80, ("acme", 20), ("globex", 40)));
        Assert.Equal((60, 75), (pool.Granted, pool.GrantedPercent));
        Assert.Equal(["globex", "acme"], pool.Tenants.Select(t => t.Tenant));
        Assert.Equal((2, 40, 10), (pool.Tenants[0].Min, pool.Tenants[0].Max, pool.Tenants[0].Weight));
    }

    [Fact]
    public void Pool_view_of_a_pool_without_capacity_shows_full_only_when_something_is_granted()
    {
        Assert.Equal(0, BoardViews.Pool(Budget(0)).GrantedPercent);
        Assert.Equal(100, BoardViews.Pool(Budget(0, ("acme", 1))).GrantedPercent);
    }

    private static BackupRecord Backup(string id, DateTimeOffset finished, bool verified, BackupState state = BackupState.Succeeded) =>
        new(id, state, finished.AddMinutes(-5), finished, 1, 0, 0, verified);

    private static readonly BackupPolicy Daily = new() { Schedule = "0 3 * * *", RpoTarget = TimeSpan.FromSeconds(1) };

    private static ArchiveStatus Archive(TimeSpan rpo) => ArchiveStatus.None with { Rpo = rpo };

    [Fact]
    public void Backup_view_calls_a_verified_backup_from_last_night_verified()
    {
        var view = BoardViews.Backup("oltp", Daily, [Backup("b1", Now.AddHours(-18), verified: true)], [], Archive(TimeSpan.Zero), "", Now);
        Assert.Equal(("verified", "b1", "within"), (view.Freshness, view.LastVerifiedId, view.RpoState));
    }

    [Fact]
    public void Backup_view_calls_a_verified_backup_stale_once_two_scheduled_runs_passed_without_another()
    {
        var view = BoardViews.Backup("oltp", Daily, [Backup("b1", Now.AddDays(-3), verified: true), Backup("b2", Now.AddHours(-1), verified: false, BackupState.Failed)],
            [], Archive(TimeSpan.Zero), "", Now);
        Assert.Equal(("stale", "b1"), (view.Freshness, view.LastVerifiedId));
    }

    [Fact]
    public void Backup_view_tells_unverified_from_none_and_rpo_above_target()
    {
        Assert.Equal("unverified", BoardViews.Backup("oltp", Daily, [Backup("b1", Now, verified: false)], [], Archive(TimeSpan.Zero), "", Now).Freshness);
        var none = BoardViews.Backup("oltp", Daily, [], [], Archive(TimeSpan.FromSeconds(7.5)), "RPO 7.5s above target 1s", Now);
        Assert.Equal(("none", "above", 7.5, "RPO 7.5s above target 1s"), (none.Freshness, none.RpoState, none.RpoSeconds, none.Alert));
        Assert.Equal("off", BoardViews.Backup("oltp", Daily with { ArchiveWal = false }, [], [], Archive(TimeSpan.FromHours(1)), "", Now).RpoState);
    }

    [Fact]
    public void Backup_view_shows_the_newest_finished_drill_with_its_rto()
    {
        DrillRecord Drill(string id, DateTimeOffset? finished, bool? passed) =>
            new(id, "b1", Now.AddHours(-2), finished, passed, passed is null ? null : TimeSpan.FromSeconds(42), [], passed == false ? "row counts differ" : "", "scheduler");
        var view = BoardViews.Backup("oltp", Daily, [], [Drill("d1", Now.AddHours(-30), true), Drill("d2", Now.AddHours(-1), false), Drill("d3", null, null)],
            Archive(TimeSpan.Zero), "", Now);
        Assert.Equal(("d2", "failed", 42.0, "row counts differ"), (view.LastDrill!.Id, view.LastDrill.Outcome, view.LastDrill.RtoSeconds, view.LastDrill.Detail));
    }

    [Fact]
    public void Alerts_put_firing_before_pending_and_critical_before_warning_and_leave_resolved_out()
    {
        ActiveAlert Alert(string rule, AlertPhase phase, AlertSeverity severity, int minutesAgo) =>
            new(AlertKey.Of(rule, [new("tier", "oltp")]), phase, Now.AddMinutes(-minutesAgo), null, 1, Now, severity, rule + " summary", "");
        var views = BoardViews.Alerts([
            (Alert("lag", AlertPhase.Pending, AlertSeverity.Critical, 1), false),
            (Alert("rpo", AlertPhase.Firing, AlertSeverity.Warning, 9), true),
            (Alert("down", AlertPhase.Firing, AlertSeverity.Critical, 2), false),
            (Alert("old", AlertPhase.Resolved, AlertSeverity.Critical, 60), false),
        ]);
        Assert.Equal(["down", "rpo", "lag"], views.Select(v => v.Rule));
        Assert.Equal(("firing", "critical", false), (views[0].Phase, views[0].Severity, views[0].Silenced));
        Assert.True(views[1].Silenced);
    }

    [Fact]
    public void Decisions_of_every_tier_come_newest_first_within_the_limit()
    {
        DecisionRecord Decision(long sequence, int minutesAgo, DecisionKind kind) =>
            new(sequence, Now.AddMinutes(-minutesAgo), kind, 2, "a-1", "a-2", "planned", [], "admin", "x." + sequence, DecisionOutcome.Completed, [], Now);
        var views = BoardViews.Decisions([
            ("oltp", Decision(1, 30, DecisionKind.Settings)),
            ("queue", Decision(7, 1, DecisionKind.AutomaticFailover)),
            ("oltp", Decision(2, 5, DecisionKind.Switchover)),
        ], limit: 2);
        Assert.Equal([("queue", "automatic-failover"), ("oltp", "switchover")], views.Select(v => (v.Tier, v.Kind)));
        Assert.Equal(("completed", "x.7"), (views[0].Outcome, views[0].OperationId));
    }
}
