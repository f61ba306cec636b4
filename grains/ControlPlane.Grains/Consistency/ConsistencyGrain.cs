using System.Diagnostics;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Postgres.Consistency;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Grains.Consistency;

/// <summary>
/// Compares a tier's standbys with its primary (<see cref="ReplicaComparer"/>: same LSN, REPEATABLE READ snapshots,
/// chunked digests narrowed to key ranges), plus the cross-tier pairs whose left tier this is. Keeps the last report,
/// and reports mismatches to the environment's alert engine (rule <c>ReplicaDataMismatch</c>). One check at a time.
/// </summary>
public sealed class ConsistencyGrain(
    [PersistentState("consistency", FleetKeys.Storage)] IPersistentState<ConsistencyState> state,
    IOptions<ConsistencySettings> options,
    ILogger<ConsistencyGrain> logger) : Grain, IConsistencyGrain
{
    private readonly ConsistencySettings _settings = options.Value;
    private IGrainTimer? _timer;

    private string Key => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (_settings.Interval > TimeSpan.Zero)
        {
            var due = state.State.Last is { } last ? last.CheckedAt + _settings.Interval - DateTimeOffset.UtcNow : _settings.Interval;
            _timer = this.RegisterGrainTimer(ScheduledCheck, new GrainTimerCreationOptions
            {
                DueTime = due < TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : due,
                Period = _settings.Interval,
                KeepAlive = true,
            });
        }
        return Task.CompletedTask;
    }

    public Task Ensure() => Task.CompletedTask;

    public Task<ConsistencyReport?> GetLast() => Task.FromResult(state.State.Last);

    public Task<ConsistencyReport> Check(IReadOnlyList<string> tables) => RunAsync(tables, scheduled: false);

    private async Task<ConsistencyReport> RunAsync(IReadOnlyList<string> tables, bool scheduled)
    {
        var parts = Key.Split('/');
        var (env, tier) = (parts[0], parts[1]);
        var tierGrain = GrainFactory.GetGrain<ITierGrain>(Key);
        var spec = await tierGrain.GetSpec() ?? throw new InvalidOperationException($"tier '{tier}' of '{env}' is not registered yet.");
        var snapshot = await tierGrain.GetSnapshot() ?? throw new InvalidOperationException($"tier '{tier}' of '{env}' has no topology yet.");
        var primary = spec.Replicas.FirstOrDefault(r => r.Name == snapshot.Primary)
            ?? throw new InvalidOperationException($"tier '{tier}' has no primary to compare with (primary '{snapshot.Primary}').");
        var standbys = spec.Replicas.Where(r => r.Name != primary.Name).Select(r => new ComparedReplica(r.Name, ReplicaGrain.Endpoint(r))).ToList();
        var wanted = tables.Count > 0 ? tables : _settings.Tables.GetValueOrDefault(tier) ?? [];
        var clock = Stopwatch.StartNew();
        ReplicaComparison comparison;
        try
        {
            comparison = await ReplicaComparer.CompareAsync(new ComparedReplica(primary.Name, ReplicaGrain.Endpoint(primary)), standbys, wanted,
                new ComparisonOptions(_settings.ReplayTimeout, _settings.LockTimeout, _settings.RowsPerChunk, MaxRangesPerTable: _settings.MaxRangesPerTable),
                CancellationToken.None);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
        {
            throw new InvalidOperationException($"consistency check of tier '{tier}' could not run on primary {primary.Name}: {ex.Message}", ex);
        }
        var pairs = await PairsAsync(env, tier);
        var report = ConsistencyMapping.ToReport(env, tier, primary.Name, comparison, pairs, clock.Elapsed, scheduled, DateTimeOffset.UtcNow);
        await RememberAsync(report);
        await AlertAsync(report);
        return report;
    }

    private async Task<IReadOnlyList<PairConsistency>> PairsAsync(string env, string tier)
    {
        var results = new List<PairConsistency>();
        foreach (var pair in _settings.Pairs.Where(p => p.LeftTier == tier))
        {
            try
            {
                var left = await PairSideAsync(env, pair.LeftTier, pair.LeftQuery);
                var right = await PairSideAsync(env, pair.RightTier, pair.RightQuery);
                results.Add(new PairConsistency(pair.Name, pair.LeftTier, left, pair.RightTier, right, ""));
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or InvalidOperationException)
            {
                results.Add(new PairConsistency(pair.Name, pair.LeftTier, "", pair.RightTier, "", ex.Message));
            }
        }
        return results;
    }

    private async Task<string> PairSideAsync(string env, string tier, string sql)
    {
        var tierGrain = GrainFactory.GetGrain<ITierGrain>(FleetKeys.Tier(env, tier));
        var spec = await tierGrain.GetSpec() ?? throw new InvalidOperationException($"tier '{tier}' is not registered.");
        var primary = (await tierGrain.GetSnapshot())?.Primary;
        var replica = spec.Replicas.FirstOrDefault(r => r.Name == primary) ?? throw new InvalidOperationException($"tier '{tier}' has no primary.");
        return await ReadOnlyScalar.ReadAsync(ReplicaGrain.Endpoint(replica), sql, (int)Math.Max(1, _settings.ReplayTimeout.TotalSeconds), "controlplane-consistency", CancellationToken.None);
    }

    private async Task RememberAsync(ConsistencyReport report)
    {
        state.State.Last = report;
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception ex) when (ex is not InconsistentStateException)
        {
            // The report is still answered; the next check writes again.
            logger.LogWarning("Consistency report of {Tier} not persisted: {Error}", Key, ex.Message);
        }
    }

    private async Task AlertAsync(ConsistencyReport report)
    {
        var (readings, breached) = ConsistencyAlerts.Readings(report, state.State.Alerted, report.CheckedAt);
        if (readings.Count > 0) await GrainFactory.GetGrain<IAlertGrain>(report.Environment).Report(readings);
        state.State.Alerted = breached;
        if (!report.Consistent)
        {
            logger.LogError("Consistency check of {Tier} at {Lsn}: mismatches in {Tables}", Key, report.Lsn,
                string.Join(", ", report.Tables.Where(t => !t.Consistent).Select(t => $"{t.Table} {string.Join(" ", t.Mismatches.Select(m => $"{m.Replica}:{m.Range}"))}")));
        }
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception ex) when (ex is not InconsistentStateException)
        {
            logger.LogWarning("Consistency alert labels of {Tier} not persisted: {Error}", Key, ex.Message);
        }
    }

    private async Task ScheduledCheck(CancellationToken ct)
    {
        try
        {
            var report = await RunAsync([], scheduled: true);
            logger.LogInformation("Consistency check of {Tier} at {Lsn}: {Verdict}, {Rows} rows", Key, report.Lsn, report.Consistent ? "consistent" : "MISMATCH", report.RowsCompared);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or TimeoutException or OrleansException)
        {
            logger.LogWarning("Scheduled consistency check of {Tier} failed: {Error}", Key, ex.Message);
        }
    }
}
