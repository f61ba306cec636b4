using System.Net;
using ControlPlane.Grains.Backups;
using ControlPlane.Grains.Capacity;
using ControlPlane.Grains.Changes;
using ControlPlane.Grains.Consistency;
using ControlPlane.Grains.Coverage;
using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Hardening;
using ControlPlane.Grains.Health;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Grains.Pools;
using ControlPlane.Grains.Tenants;
using ControlPlane.Grains.Verify;
using ControlPlane.Silo.Hosting;
using ControlPlane.Silo.Security;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Coverage;

/// <summary>
/// Reads the facts the coverage rules need from the live grains (tier, pool, backups, changes, tenants, monitors,
/// alerts, hardening) and the gateway's own configuration, evaluates <see cref="CoverageRules"/>, and reports the
/// result to the alert engine so CoverageAreaDegraded follows what <c>cpctl coverage</c> shows. Read-only towards
/// the grains; callable directly by anything in the silo (the gRPC service, the keeper, the status board).
/// </summary>
public sealed class CoverageGatherer
{
    private const int DecisionsRead = 200;
    private const int ChangesRead = 50;
    private readonly IClusterClient _cluster;
    private readonly ControlPlaneOptions _options;
    private readonly bool _authRequired;
    private readonly int _requiredApprovals;
    private readonly TimeSpan _hardeningInterval;

    internal CoverageGatherer(IClusterClient cluster, IOptions<ControlPlaneOptions> options, IOptions<SecurityOptions> security,
        IOptions<ChangeOptions> changes, IOptions<HardeningExpectations> hardening)
    {
        _cluster = cluster;
        _options = options.Value;
        _authRequired = !security.Value.InsecureNoAuth;
        _requiredApprovals = Math.Max(1, changes.Value.RequiredApprovals);
        _hardeningInterval = hardening.Value.Interval;
    }

    public CoverageThresholds Thresholds { get; init; } = new();

    /// <summary>Coverage of <paramref name="environment"/> (only <paramref name="tier"/> when given), reported to its alert grain.</summary>
    public async Task<CoverageReport> EvaluateAsync(string environment, string? tier = null)
    {
        var tiers = tier is null ? await _cluster.GetGrain<IFleetGrain>(environment).ListTiers() : [tier];
        var now = DateTimeOffset.UtcNow;
        var alerts = _cluster.GetGrain<IAlertGrain>(environment);
        var rules = await alerts.GetRules();
        var active = await alerts.GetActive();
        var tenants = await TenantsAsync(environment);
        var facts = await Task.WhenAll(tiers.Select(t => TierAsync(environment, t, now, rules, active, tenants)));
        var report = CoverageRules.Evaluate(environment, now, facts, Thresholds);
        await alerts.Report(CoverageReadings.Of(report));
        return report;
    }

    private async Task<TierCoverageFacts> TierAsync(string env, string tier, DateTimeOffset now, IReadOnlyList<AlertRule> rules,
        IReadOnlyList<ActiveAlert> active, IReadOnlyList<TenantView> tenants)
    {
        var key = FleetKeys.Tier(env, tier);
        var tierGrain = _cluster.GetGrain<ITierGrain>(key);
        var snapshot = await tierGrain.GetSnapshot();
        var replicas = snapshot?.Replicas ?? [];
        var ha = await HaAsync(tierGrain, snapshot);
        var pools = await PoolsAsync(key, tier, tenants);
        var backups = await BackupsAsync(key, now);
        var changes = await ChangesAsync(env, key);
        var monitoring = await MonitoringAsync(env, tier, replicas, rules, active);
        var audit = await _cluster.GetGrain<IHardeningGrain>(key).GetLast();
        var hardening = new HardeningFacts(audit?.AuditedAt, audit?.Score ?? 0,
            audit?.Replicas.SelectMany(r => r.Findings.Where(f => f.Result == CheckResult.Fail && f.Severity == CheckSeverity.High).Select(f => $"{r.Replica} {f.Id}")).ToList() ?? [],
            _hardeningInterval > TimeSpan.Zero ? 2 * _hardeningInterval : TimeSpan.Zero);
        var isolation = new TenantFacts(tenants.Where(t => t.Placements.Any(p => p.Tier == tier))
            .Select(t => new TenantProbeFact(t.Name, t.Probe?.At, t.Probe?.Findings.Count(f => f.Leaked && f.Tier == tier) ?? 0)).ToList());
        var parity = new ParityFacts(replicas.ToDictionary(r => r.Name, r => r.ServerVersion, StringComparer.Ordinal));
        return new TierCoverageFacts(env, tier, now, ha, pools, backups, changes, isolation, monitoring, hardening, Gateway(), parity,
            await CapacityAsync(key, rules), await IntegrationAsync(key));
    }

    private async Task<CapacityFacts> CapacityAsync(string key, IReadOnlyList<AlertRule> rules)
    {
        var report = await _cluster.GetGrain<ICapacityGrain>(key).GetReport(null);
        var limited = report.Series.Where(s => s.Limit is not null).ToList();
        var soonest = limited.Where(s => s.Forecast.DaysToLimit is not null).MinBy(s => s.Forecast.DaysToLimit);
        var rule = rules.FirstOrDefault(r => r.Name == "CapacityForecastShort");
        return new CapacityFacts(report.SampledAt, limited.Count, soonest is null ? "" : soonest.Resource, soonest?.Forecast.DaysToLimit,
            rule is { Enabled: true }, rule?.Threshold ?? 0);
    }

    private async Task<IntegrationFacts> IntegrationAsync(string key)
    {
        var consistency = await _cluster.GetGrain<IConsistencyGrain>(key).GetLast();
        var verify = await _cluster.GetGrain<IVerifyGrain>(key).GetLast();
        return new IntegrationFacts(
            consistency?.CheckedAt, consistency?.Consistent,
            consistency is null ? "" : consistency.Consistent
                ? $"{consistency.Tables.Count} table(s), {consistency.RowsCompared} rows equal on {consistency.Standbys.Count} standby(s)"
                : string.Join("; ", consistency.Tables.Where(t => !t.Consistent).Select(t => t.Table)
                    .Concat(consistency.Standbys.Where(s => s.Error.Length > 0).Select(s => s.Error))
                    .Concat(consistency.Pairs.Where(p => !p.Equal).Select(p => p.Name))),
            verify?.StartedAt, verify?.Passed,
            verify is null ? "" : string.Join("; ", verify.Steps.Where(s => s.Outcome == ControlPlane.Grains.Verify.VerifyOutcome.Failed).Select(s => $"{s.Name}: {s.Detail}")));
    }

    private static async Task<HaFacts> HaAsync(ITierGrain tier, TierSnapshot? snapshot)
    {
        var settings = await tier.GetSettings();
        var rehearsal = (await tier.ListDecisions(DecisionsRead))
            .Where(d => d.Kind is DecisionKind.Switchover or DecisionKind.ManualFailover or DecisionKind.AutomaticFailover
                && d.Outcome is DecisionOutcome.Completed or DecisionOutcome.Failed)
            .MaxBy(d => d.Sequence);
        var standbys = snapshot?.Replicas.Where(r => r.Name != snapshot.Primary).ToList() ?? [];
        var primaryHealthy = snapshot?.Replicas.Any(r => r.Name == snapshot.Primary && r.Healthy) ?? false;
        return new HaFacts(standbys.Count, standbys.Count(r => r.Healthy), primaryHealthy, settings.AutoFailover, snapshot?.Paused ?? false,
            rehearsal?.CompletedAt ?? rehearsal?.At, rehearsal is null ? null : rehearsal.Outcome == DecisionOutcome.Completed,
            rehearsal is null ? "" : $"{Describe(rehearsal.Kind)} {rehearsal.OldPrimary} -> {rehearsal.NewPrimary} (term {rehearsal.Term})");
    }

    private static string Describe(DecisionKind kind) => kind switch
    {
        DecisionKind.Switchover => "switchover",
        DecisionKind.ManualFailover => "manual failover",
        _ => "automatic failover",
    };

    private async Task<PoolFacts> PoolsAsync(string key, string tier, IReadOnlyList<TenantView> tenants)
    {
        var budget = await _cluster.GetGrain<IPoolGrain>(key).GetBudget();
        var withoutPlan = tenants.Where(t => t.Placements.Any(p => p.Tier == tier) && t.Plans.All(p => p.Tier != tier)).Select(t => t.Name).ToList();
        return new PoolFacts(budget.SampledAt, budget.Capacity, budget.Tenants.Sum(t => t.Granted), budget.Alerts,
            budget.Tenants.Sum(t => t.LeakSuspects), withoutPlan);
    }

    private async Task<BackupFacts> BackupsAsync(string key, DateTimeOffset now)
    {
        var grain = _cluster.GetGrain<IBackupGrain>(key);
        var policy = await grain.GetPolicy();
        var backups = await grain.ListBackups();
        var newest = backups.Where(b => b.State == BackupState.Succeeded && b.Verified && b.FinishedAt is not null).MaxBy(b => b.FinishedAt);
        var lastAttempt = backups.Where(b => b.State is BackupState.Succeeded or BackupState.Failed).MaxBy(b => b.StartedAt);
        var drill = (await grain.ListDrills(20)).Where(d => d.Passed is not null).MaxBy(d => d.FinishedAt ?? d.StartedAt);
        var archive = await grain.GetArchiveStatus();
        return new BackupFacts(policy.Schedule, policy.DrillSchedule, policy.ArchiveWal,
            SchedulePeriod.MaxAge(policy.Schedule, now, TimeSpan.FromHours(26)), SchedulePeriod.MaxAge(policy.DrillSchedule, now, TimeSpan.FromDays(8)),
            newest?.FinishedAt, newest?.Id ?? "", lastAttempt is { State: BackupState.Failed } failed ? OneLine(failed.Error) : "",
            drill is null ? null : new DrillFact(drill.Id, drill.FinishedAt ?? drill.StartedAt, drill.Passed!.Value, drill.Rto, OneLine(drill.Summary?.Reason ?? "")),
            policy.RtoTarget, policy.RpoTarget, archive.MeasuredAt == DateTimeOffset.MinValue ? null : archive.MeasuredAt, archive.Rpo, archive.Streaming,
            OneLine(archive.LastError));
    }

    private async Task<ChangeFacts> ChangesAsync(string env, string key)
    {
        var ids = await _cluster.GetGrain<IChangeLedgerGrain>(key).List();
        var views = (await Task.WhenAll(ids.TakeLast(ChangesRead).Select(id => _cluster.GetGrain<IChangeGrain>(ChangeKeys.Of(env, id)).Get())))
            .OfType<ChangeView>().ToList();
        var current = views.Where(v => v.Phase is not (ChangePhase.RolledBack or ChangePhase.Completed) || v.Targets.Any(t => t.State is ChangeTargetState.Blocked or ChangeTargetState.Failed)).ToList();
        return new ChangeFacts(_requiredApprovals, views.Count,
            views.Where(v => v.Phase == ChangePhase.Halted).Select(v => v.Id).ToList(),
            current.SelectMany(v => v.Targets.Where(t => t.State == ChangeTargetState.Blocked).Select(t => $"{v.Id} {t.Schema}")).ToList(),
            current.SelectMany(v => v.Targets.Where(t => t.State == ChangeTargetState.Failed).Select(t => $"{v.Id} {t.Schema}")).ToList(),
            views.Where(v => v.Phase == ChangePhase.Completed && v.History.Count > 0).Select(v => (DateTimeOffset?)v.History[^1].At).Max());
    }

    private async Task<MonitoringFacts> MonitoringAsync(string env, string tier, IReadOnlyList<ReplicaStatus> replicas, IReadOnlyList<AlertRule> rules,
        IReadOnlyList<ActiveAlert> active)
    {
        var sampled = new Dictionary<string, DateTimeOffset?>(StringComparer.Ordinal);
        foreach (var replica in replicas)
        {
            var report = await _cluster.GetGrain<IReplicaMonitor>(FleetKeys.Replica(env, tier, replica.Name)).GetPerformance();
            sampled[replica.Name] = report.CheapAt;
        }
        var firing = active.Where(a => a.Phase == AlertPhase.Firing && a.Severity == AlertSeverity.Critical && a.Key.Label("tier") == tier)
            .Select(a => a.Key.Fingerprint).ToList();
        return new MonitoringFacts(sampled, rules.Count(r => r.Enabled), firing);
    }

    private async Task<IReadOnlyList<TenantView>> TenantsAsync(string env)
    {
        var index = await _cluster.GetGrain<ITenantRegistryGrain>(env).ListIndex();
        var views = await Task.WhenAll(index.Where(e => e.Lifecycle == TenantLifecycle.Active)
            .Select(e => _cluster.GetGrain<ITenantGrain>(TenantKeys.Of(env, e.Record.Name)).Get()));
        return views.OfType<TenantView>().ToList();
    }

    private GatewayFacts Gateway() =>
        new(_authRequired, _options.Tls.Enabled, IPAddress.TryParse(_options.ListenAddress, out var address) && IPAddress.IsLoopback(address));

    private static string OneLine(string text)
    {
        var line = text.ReplaceLineEndings(" ").Trim();
        return line.Length <= 300 ? line : line[..300] + "…";
    }
}
