using ControlPlane.Grains.Backups;
using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Health;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Grains.Pools;

namespace ControlPlane.Silo.Board;

// What the web board shows, as plain records serialized to JSON (camelCase). Built from grain state by the pure
// functions of BoardViews, so the page holds no fleet logic and every number on it is unit-tested here.

public sealed record ReplicaView(
    string Name, string Address, string Role, bool Healthy, bool Reachable, long LagBytes, double LagSeconds,
    int Connections, int MaxConnections, string Problem, DateTimeOffset? LastProbeAt);

/// <param name="Alerts">The tier's own alert lines (failover, pool, backup), empty ones left out.</param>
public sealed record TierView(
    string Name, string Health, string HealthReason, string Primary, long Term, long Version, bool Paused,
    IReadOnlyList<string> Alerts, IReadOnlyList<ReplicaView> Replicas, DateTimeOffset UpdatedAt);

public sealed record FleetView(string Environment, int Healthy, int Degraded, int Down, int Unknown, IReadOnlyList<TierView> Tiers);

public sealed record TenantGrantView(string Tenant, int Granted, int InUse, int Leases, int Min, int Max, int Weight, int Overruns, int LeakSuspects);

/// <param name="Capacity">Connections the pool may grant on the primary (after headroom and the control plane's reserve).</param>
/// <param name="GrantedPercent">Granted as a share of capacity, 0 to 100 (above 100 only if the budget is over-committed).</param>
public sealed record PoolView(
    string Tier, string Primary, int MaxConnections, int Capacity, int Granted, int GrantedPercent, int Unmanaged,
    IReadOnlyList<TenantGrantView> Tenants, IReadOnlyList<string> Alerts, DateTimeOffset? SampledAt);

public sealed record DrillView(string Id, string BackupId, DateTimeOffset StartedAt, string Outcome, double? RtoSeconds, string Detail);

/// <param name="Freshness">"verified" (a verified backup within the schedule's interval), "stale", "unverified" or "none".</param>
/// <param name="RpoState">"within" the policy's target, "above" it, or "off" when WAL is not archived.</param>
public sealed record BackupView(
    string Tier, string Schedule, DateTimeOffset? LastVerifiedAt, string LastVerifiedId, string Freshness,
    double RpoSeconds, double RpoTargetSeconds, string RpoState, DrillView? LastDrill, double RtoTargetSeconds, string Alert);

public sealed record AlertView(
    string Rule, string Phase, string Severity, string Summary, string Runbook, IReadOnlyDictionary<string, string> Labels,
    DateTimeOffset Since, DateTimeOffset? FiredAt, double Value, bool Silenced);

public sealed record DecisionView(
    string Tier, long Sequence, DateTimeOffset At, string Kind, long Term, string OldPrimary, string NewPrimary,
    string Reason, string Principal, string OperationId, string Outcome);

/// <summary>Grain state in, board records out. No I/O.</summary>
public static class BoardViews
{
    public static TierView Tier(TierSnapshot s) => new(
        s.Name, Lower(s.Health.ToString()), s.HealthReason, s.Primary, s.Term, s.Version, s.Paused,
        new[] { s.Alert, s.PoolAlert, s.BackupAlert }.Where(a => !string.IsNullOrWhiteSpace(a)).ToList(),
        s.Replicas
            .OrderBy(r => r.Role == ReplicaRole.Primary ? 0 : 1).ThenBy(r => r.Name, StringComparer.Ordinal)
            .Select(r => new ReplicaView(
                r.Name, $"{r.Host}:{r.Port}", Lower(r.Role.ToString()), r.Healthy, r.Reachable,
                r.Role == ReplicaRole.Primary ? 0 : r.LagBytes, r.Role == ReplicaRole.Primary ? 0 : Math.Round(r.LagSeconds, 3),
                r.Connections, r.MaxConnections, r.Problem, r.LastProbeAt))
            .ToList(),
        s.UpdatedAt);

    public static FleetView Fleet(string environment, IEnumerable<TierSnapshot> snapshots)
    {
        var tiers = snapshots.Select(Tier).ToList();
        int Count(string health) => tiers.Count(t => t.Health == health);
        return new FleetView(environment, Count("healthy"), Count("degraded"), Count("down"), Count("unknown"), tiers);
    }

    public static PoolView Pool(PoolBudget b)
    {
        var tenants = b.Tenants
            .OrderByDescending(t => t.Granted).ThenBy(t => t.Tenant, StringComparer.Ordinal)
            .Select(t => new TenantGrantView(t.Tenant, t.Granted, t.InUse, t.Leases, t.Plan?.Min ?? 0, t.Plan?.Max ?? 0, t.Plan?.Weight ?? 0, t.Overruns, t.LeakSuspects))
            .ToList();
        var granted = tenants.Sum(t => t.Granted);
        var percent = b.Capacity <= 0 ? (granted > 0 ? 100 : 0) : (int)Math.Round(100.0 * granted / b.Capacity, MidpointRounding.AwayFromZero);
        return new PoolView(b.Tier, b.Primary, b.MaxConnections, b.Capacity, granted, percent, b.Unmanaged, tenants, b.Alerts, b.SampledAt);
    }

    /// <summary>The newest verified backup is stale once two scheduled runs after it have come and gone without another.</summary>
    public static BackupView Backup(
        string tier, BackupPolicy policy, IReadOnlyList<BackupRecord> backups, IReadOnlyList<DrillRecord> drills,
        ArchiveStatus archive, string alert, DateTimeOffset now)
    {
        var finished = backups.Where(b => b.State == BackupState.Succeeded && b.FinishedAt is not null).ToList();
        var verified = finished.Where(b => b.Verified).MaxBy(b => b.FinishedAt);
        var freshness = verified switch
        {
            null when finished.Count > 0 => "unverified",
            null => "none",
            _ when SecondRunAfter(policy.Schedule, verified.FinishedAt!.Value) is { } missed && missed < now => "stale",
            _ => "verified",
        };
        var rpoState = !policy.ArchiveWal ? "off" : archive.Rpo <= policy.RpoTarget ? "within" : "above";
        var drill = drills.Where(d => d.FinishedAt is not null).MaxBy(d => d.FinishedAt);
        return new BackupView(
            tier, policy.Schedule, verified?.FinishedAt, verified?.Id ?? "", freshness,
            Math.Round(archive.Rpo.TotalSeconds, 3), policy.RpoTarget.TotalSeconds, rpoState,
            drill is null ? null : new DrillView(
                drill.Id, drill.BackupId, drill.StartedAt,
                drill.Passed switch { true => "passed", false => "failed", null => "unfinished" },
                drill.Rto?.TotalSeconds, drill.Summary?.Reason ?? drill.Error),
            policy.RtoTarget.TotalSeconds, alert);
    }

    /// <summary>Firing first, then pending; most severe first; oldest first within that.</summary>
    public static IReadOnlyList<AlertView> Alerts(IEnumerable<(ActiveAlert Alert, bool Silenced)> alerts) =>
        alerts
            .Where(a => a.Alert.Phase != AlertPhase.Resolved)
            .OrderBy(a => a.Alert.Phase == AlertPhase.Firing ? 0 : 1)
            .ThenByDescending(a => a.Alert.Severity)
            .ThenBy(a => a.Alert.Since)
            .Select(a => new AlertView(
                a.Alert.Key.Rule, Lower(a.Alert.Phase.ToString()), Lower(a.Alert.Severity.ToString()), a.Alert.Summary, a.Alert.Runbook,
                a.Alert.Key.Labels, a.Alert.Since, a.Alert.FiredAt, a.Alert.Value, a.Silenced))
            .ToList();

    /// <summary>The newest <paramref name="limit"/> decisions of all tiers, newest first.</summary>
    public static IReadOnlyList<DecisionView> Decisions(IEnumerable<(string Tier, DecisionRecord Decision)> decisions, int limit) =>
        decisions
            .OrderByDescending(d => d.Decision.At).ThenBy(d => d.Tier, StringComparer.Ordinal).ThenByDescending(d => d.Decision.Sequence)
            .Take(limit)
            .Select(d => new DecisionView(
                d.Tier, d.Decision.Sequence, d.Decision.At, Kebab(d.Decision.Kind.ToString()), d.Decision.Term,
                d.Decision.OldPrimary, d.Decision.NewPrimary, d.Decision.Reason, d.Decision.Principal,
                d.Decision.OperationId ?? "", Lower(d.Decision.Outcome.ToString())))
            .ToList();

    private static DateTimeOffset? SecondRunAfter(string schedule, DateTimeOffset from)
    {
        if (schedule.Length == 0) return null;
        try
        {
            var cron = BackupPlanner.ParseSchedule("schedule", schedule);
            var first = cron.GetNextOccurrence(from.UtcDateTime, TimeZoneInfo.Utc);
            var second = first is { } f ? cron.GetNextOccurrence(f, TimeZoneInfo.Utc) : null;
            return second is { } s ? new DateTimeOffset(s, TimeSpan.Zero) : null;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static string Lower(string value) => value.ToLowerInvariant();

    /// <summary>AutomaticFailover becomes automatic-failover, as the CLI prints decision kinds.</summary>
    private static string Kebab(string value) =>
        string.Concat(value.Select((c, i) => i > 0 && char.IsUpper(c) ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
