using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Monitoring;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Pools;

/// <summary>Samples from the replicas: capacity, unmanaged connections, overruns, leak suspects and the policy.</summary>
public sealed partial class PoolGrain
{
    /// <summary>A replica that has not reported for this long no longer counts (it is down or moved).</summary>
    private static readonly TimeSpan SampleStaleAfter = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan TerminationMemory = TimeSpan.FromSeconds(30);
    private readonly Dictionary<string, ReplicaPoolSample> _samples = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LeakAssessment> _assessments = new(StringComparer.Ordinal);
    private readonly HashSet<string> _alertKeys = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Replica, int Pid), DateTimeOffset> _terminated = [];
    private string _primary = "";
    private int? _capacity;
    private int _unmanaged;

    public async Task ReportSample(ReplicaPoolSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        _samples[sample.Replica] = sample;
        var settings = state.State.Settings;
        var rebalance = new List<string>();
        if (!sample.InRecovery)
        {
            var capacity = PoolCapacity.Of(sample, settings);
            var unmanaged = PoolCapacity.Unmanaged(sample);
            if (sample.Replica != _primary) rebalance.Add($"primary is {sample.Replica}");
            if (capacity != _capacity) rebalance.Add($"capacity {(_capacity?.ToString() ?? "unknown")} -> {capacity}");
            if (unmanaged != _unmanaged) rebalance.Add($"unmanaged connections {_unmanaged} -> {unmanaged}");
            (_primary, _capacity, _unmanaged) = (sample.Replica, capacity, unmanaged);
        }
        else if (sample.Replica == _primary)
        {
            // The old primary is a standby now; wait for the new one's sample.
            (_primary, _capacity) = ("", null);
            rebalance.Add($"{sample.Replica} is no longer primary");
        }

        var assessment = LeakPolicy.Assess(sample, state.State.Leases.Concat(_ended.Values).GroupBy(l => l.Id).ToDictionary(g => g.Key, g => g.First()), settings);
        _assessments[sample.Replica] = assessment;
        await RecordNewAlertsAsync();
        if (!sample.InRecovery) await ReportAlertReadingsAsync();
        await TerminateAsync(sample, assessment);
        if (rebalance.Count > 0) await RebalanceAsync(string.Join("; ", rebalance), "control-plane");
        else Publish();
    }

    public Task<PoolBudget> GetBudget() => Task.FromResult(Budget());

    private int? CapacityFor(LeaseAccess access)
    {
        if (access == LeaseAccess.ReadWrite) return _capacity is { } c ? Math.Max(0, c - _unmanaged) : null;
        var standbys = FreshSamples().Where(s => s.InRecovery).ToList();
        return standbys.Count == 0 ? null : standbys.Min(s => PoolCapacity.Of(s, state.State.Settings));
    }

    private IEnumerable<ReplicaPoolSample> FreshSamples()
    {
        var now = DateTimeOffset.UtcNow;
        return _samples.Values.Where(s => now - s.At < SampleStaleAfter);
    }

    private IEnumerable<LeakAssessment> FreshAssessments() =>
        FreshSamples().Select(s => _assessments.GetValueOrDefault(s.Replica)).OfType<LeakAssessment>();

    private LeaseUsage? UsageOf(string leaseId)
    {
        var parts = FreshAssessments().Select(a => a.Usage.GetValueOrDefault(leaseId)).OfType<LeaseUsage>().ToList();
        if (parts.Count == 0) return null;
        return new LeaseUsage(parts.Sum(u => u.Connections), parts.Sum(u => u.IdleInTransaction),
            parts.Max(u => u.LongestIdleInTransactionSeconds), parts.Sum(u => u.LeakSuspects), parts.Max(u => u.LongestHeldSeconds));
    }

    private LeaseView View(LeaseRecord lease) => new(lease, UsageOf(lease.Id));

    private async Task RecordNewAlertsAsync()
    {
        var current = FreshAssessments().SelectMany(a => a.Alerts).ToList();
        var keys = current.Select(AlertKey).ToHashSet(StringComparer.Ordinal);
        var fresh = current.Where(a => !_alertKeys.Contains(AlertKey(a))).ToList();
        if (!keys.SetEquals(_alertKeys))
        {
            // The tier's watch stream carries the pool's standing alerts, worded by their stable keys so that moving
            // numbers do not turn into a new version every sample.
            var summary = string.Join("; ", keys.Order(StringComparer.Ordinal));
            await GrainFactory.GetGrain<ITierGrain>(FleetKeys.Tier(_env, _tier)).SetPoolAlert(summary);
        }
        _alertKeys.Clear();
        _alertKeys.UnionWith(keys);
        if (fresh.Count == 0) return;
        logger.LogWarning("Pool {Environment}/{Tier}: {Alerts}", _env, _tier, string.Join("; ", fresh));
        await RecordAsync(PoolDecisionKind.Alert, fresh.Count == 1 ? fresh[0] : $"{fresh.Count} new pool alerts", fresh, "control-plane");
    }

    /// <summary>The alert engine raises the pool's alerts (PoolLeaseOverrun, PoolLeakSuspect) from these, once per primary sample.</summary>
    private async Task ReportAlertReadingsAsync()
    {
        var readings = PoolReadings.Of(Budget(), DateTimeOffset.UtcNow);
        if (readings.Count == 0) return;
        try
        {
            await GrainFactory.GetGrain<IAlertGrain>(_env).Report(readings);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            logger.LogDebug(ex, "Pool {Environment}/{Tier}: readings not reported to the alert engine", _env, _tier);
        }
    }

    /// <summary>"overrun: lease X ..." and "leak suspect: lease X ..." keep their key while their numbers move.</summary>
    private static string AlertKey(string alert) => string.Join(' ', alert.Split(' ').Take(4));

    private async Task TerminateAsync(ReplicaPoolSample sample, LeakAssessment assessment)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var gone in _terminated.Where(t => now - t.Value > TerminationMemory).Select(t => t.Key).ToList()) _terminated.Remove(gone);
        var due = assessment.Terminate.Where(t => !_terminated.ContainsKey((sample.Replica, t.Pid))).ToList();
        if (due.Count == 0) return;
        var limit = state.State.Settings.TerminateIdleInTransactionSeconds;
        foreach (var byLease in due.GroupBy(t => t.LeaseId))
        {
            var pids = byLease.Select(t => t.Pid).ToList();
            foreach (var pid in pids) _terminated[(sample.Replica, pid)] = now;
            // Persisted before acted on, like every decision: the log says what was killed and why even if the call fails.
            await RecordAsync(PoolDecisionKind.Terminate,
                $"terminating {pids.Count} session(s) of lease {byLease.Key} idle in transaction past {limit}s on {sample.Replica}",
                byLease.Select(t => $"pid {t.Pid} idle in transaction {t.IdleSeconds:0}s").ToList(), "control-plane");
            try
            {
                var sampler = GrainFactory.GetGrain<IReplicaPoolSampler>(FleetKeys.Replica(_env, _tier, sample.Replica));
                var terminated = await sampler.TerminateIdleInTransaction(pids, byLease.Key);
                logger.LogWarning("Pool {Environment}/{Tier}: terminated {Count} of {Asked} idle-in-transaction session(s) of lease {Lease} on {Replica}",
                    _env, _tier, terminated, pids.Count, byLease.Key, sample.Replica);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException or InvalidOperationException)
            {
                logger.LogWarning(ex, "Pool {Environment}/{Tier}: terminating sessions of lease {Lease} on {Replica} failed", _env, _tier, byLease.Key, sample.Replica);
            }
        }
    }

    private PoolBudget Budget()
    {
        var now = DateTimeOffset.UtcNow;
        var leases = state.State.Leases;
        var assessments = FreshAssessments().ToList();
        var tenants = leases.Select(l => l.Tenant).Concat(_plans.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(tenant =>
            {
                var mine = leases.Where(l => l.Tenant == tenant).ToList();
                var stats = mine.Select(l => _stats.GetValueOrDefault(l.Id)).OfType<PoolStatsReport>().ToList();
                var waits = OpenWaitSummary.Of(mine.Select(l => _waits.TryGetValue(l.Id, out var w) ? w.Summary(now) : default));
                var usage = mine.Select(l => UsageOf(l.Id)).OfType<LeaseUsage>().ToList();
                var overruns = assessments.Sum(a => a.Overruns.Count(id => LeaseRecord.TryParseId(id, out _, out var t) && t == tenant));
                return new TenantBudget(tenant, mine.Sum(l => l.Granted), stats.Sum(s => s.InUse),
                    // The library cannot see its pool's idle connections; the server can: tagged connections not in use.
                    Math.Max(stats.Sum(s => s.Idle), usage.Sum(u => u.Connections) - stats.Sum(s => s.InUse)), stats.Sum(s => s.Waiting),
                    overruns, usage.Sum(u => u.LeakSuspects), mine.Count, usage.Sum(u => u.Connections), Plans.GetValueOrDefault(tenant),
                    waits.MaxSeconds, waits.MeanSeconds);
            }).ToList();
        var primary = _primary.Length > 0 ? _samples.GetValueOrDefault(_primary) : null;
        return new PoolBudget(_env, _tier, _capacity ?? 0, CapacityFor(LeaseAccess.ReadOnly) ?? 0, _unmanaged, tenants,
            assessments.SelectMany(a => a.Alerts).ToList(), _primary, primary?.At, state.State.Settings, primary?.MaxConnections ?? 0);
    }

    private void Publish() => metrics.Record(Budget());
}
