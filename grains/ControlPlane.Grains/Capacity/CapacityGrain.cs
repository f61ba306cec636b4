using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Grains.Pools;
using ControlPlane.Postgres.Capacity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Grains.Capacity;

/// <summary>
/// Samples every replica of its tier on a timer (its own one-connection pool per replica: no other grain's
/// connections), appends the readings to the downsampled histories it persists, and reports each forecast's days to
/// its limit to the alert engine (rule CapacityForecastShort). Forecasts and recommendations are computed on demand by
/// the pure <see cref="Forecaster"/> and <see cref="CapacityAdvisor"/>: they are cheap, and the window is the caller's.
/// </summary>
public sealed class CapacityGrain(
    [PersistentState("capacity", FleetKeys.Storage)] IPersistentState<CapacityState> state,
    IOptions<CapacityOptions> options,
    ILogger<CapacityGrain> logger) : Grain, ICapacityGrain
{
    /// <summary>A forecast from fewer points is too young to page anyone.</summary>
    public const int MinimumPointsForAlert = 10;

    private readonly CapacityOptions _options = options.Value;
    private readonly Dictionary<string, CapacitySampler> _samplers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, CapacityFacts> _previous = new(StringComparer.Ordinal);
    private IReadOnlyList<ReplicaSample> _round = [];
    private IReadOnlyList<string> _tenants = [];
    private string _env = "";
    private string _tier = "";

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var parts = this.GetPrimaryKeyString().Split('/');
        (_env, _tier) = (parts[0], parts[^1]);
        if (_options.Interval > TimeSpan.Zero)
        {
            this.RegisterGrainTimer(ScheduledSample, new GrainTimerCreationOptions
            {
                DueTime = TimeSpan.FromSeconds(1),
                Period = _options.Interval,
                KeepAlive = true,
            });
        }
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        foreach (var sampler in _samplers.Values) await sampler.DisposeAsync();
        _samplers.Clear();
    }

    public Task Ensure() => Task.CompletedTask;

    public Task<CapacityReport> GetReport(TimeSpan? window) => Task.FromResult(Report(window));

    public async Task<CapacityReport> Sample()
    {
        var spec = await GrainFactory.GetGrain<ITierGrain>(this.GetPrimaryKeyString()).GetSpec()
            ?? throw new InvalidOperationException($"tier '{_tier}' of '{_env}' is not registered yet.");
        var round = new List<ReplicaSample>();
        foreach (var replica in spec.Replicas) round.Add(await SampleReplicaAsync(replica));
        foreach (var gone in _samplers.Keys.Except(spec.Replicas.Select(r => r.Name)).ToList())
        {
            await _samplers[gone].DisposeAsync();
            _samplers.Remove(gone);
            _previous.Remove(gone);
        }
        _round = round;
        var pool = await OptionalAsync(() => GrainFactory.GetGrain<IPoolGrain>(this.GetPrimaryKeyString()).GetBudget());
        var plans = await OptionalAsync(() => GrainFactory.GetGrain<ITenantRegistryGrain>(_env).PlansFor(_tier));
        if (plans is not null)
        {
            _tenants = [.. plans.Keys.Order(StringComparer.Ordinal)];
            // A tenant gone from the tier takes its series with it; the tier's history is not a tenant archive.
            state.State.Series.RemoveAll(s => s.Tenant.Length > 0 && !plans.ContainsKey(s.Tenant));
        }
        var now = DateTimeOffset.UtcNow;
        var tenantSizes = CapacityReadings.Tenants(_tenants, CapacityReadings.Primary(round)?.Facts);
        foreach (var reading in CapacityReadings.Of(_tier, round, pool, plans?.Count, _options.For(_tier), now, tenantSizes)) Append(reading);
        state.State.LastSampledAt = now;
        await PersistAsync();
        var report = Report(null);
        await ReportAlertReadingsAsync(report, now);
        return report;
    }

    private async Task<ReplicaSample> SampleReplicaAsync(ReplicaSpec replica)
    {
        _previous.TryGetValue(replica.Name, out var previous);
        try
        {
            if (!_samplers.TryGetValue(replica.Name, out var sampler))
                _samplers[replica.Name] = sampler = new CapacitySampler(ReplicaGrain.Endpoint(replica), _options.Timeout);
            using var deadline = new CancellationTokenSource(_options.Timeout);
            var facts = await sampler.SampleAsync(deadline.Token);
            _previous[replica.Name] = facts;
            return new ReplicaSample(replica.Name, facts, previous);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or InvalidOperationException or OperationCanceledException)
        {
            // Npgsql's messages name host and port, never the password.
            logger.LogDebug("Capacity sample of {Tier}/{Replica} failed: {Error}", _tier, replica.Name, ex.Message);
            return new ReplicaSample(replica.Name, null, previous, $"could not sample the instance: {ex.Message}");
        }
    }

    private void Append(CapacityReading reading)
    {
        var series = state.State.Series.FirstOrDefault(s => s.Resource == reading.Resource && s.Replica == reading.Replica && s.Tenant == reading.Tenant);
        if (series is null)
        {
            series = new CapacitySeriesState { Resource = reading.Resource, Replica = reading.Replica, Tenant = reading.Tenant, Resolution = _options.Resolution };
            state.State.Series.Add(series);
        }
        (series.Points, series.Resolution) = CapacityHistory.Append(series.Points, series.Resolution, reading.At, reading.Value, _options.MaxPoints);
        series.Limit = reading.Limit;
        series.LimitSource = reading.LimitSource;
    }

    private CapacityReport Report(TimeSpan? window)
    {
        var settings = new ForecastSettings(_options.HorizonDays);
        var series = state.State.Series
            .Where(s => s.Points.Count > 0)
            .OrderBy(s => CapacityResources.All.ToList().IndexOf(s.Resource)).ThenBy(s => s.Replica, StringComparer.Ordinal).ThenBy(s => s.Tenant, StringComparer.Ordinal)
            .Select(s =>
            {
                var history = CapacityHistory.Since(s.Points, window is { } w ? s.Points[^1].At - w : null);
                return new CapacitySeries(s.Resource, s.Replica, s.Points[^1].Value, s.Limit, s.LimitSource, s.Resolution, s.Points,
                    Forecaster.Run(history, s.Resolution, s.Limit, settings), s.Tenant);
            })
            .ToList();
        var replicas = _round.Select(CapacityReadings.View).ToList();
        var primary = CapacityReadings.Primary(_round)?.Facts;
        var tables = primary?.Tables.Select(t => new CapacityTable(t.Schema, t.Name, t.Bytes, t.Rows)).ToList() ?? [];
        var tenants = CapacityReadings.Tenants(_tenants, primary);
        var recommendations = CapacityAdvisor.Recommend(series, replicas, tables, tenants, _options);
        var replicaCount = _round.Count > 0 ? _round.Count : series.Select(s => s.Replica).Where(r => r.Length > 0).Distinct().Count();
        var cost = CapacityAdvisor.Cost(_options.For(_tier), replicaCount, primary?.DatabaseBytes ?? 0,
            series.FirstOrDefault(s => s.Resource == CapacityResources.DatabaseBytes)?.Forecast);
        return new CapacityReport(_env, _tier, state.State.LastSampledAt, replicas, series, tables, tenants, recommendations, cost);
    }

    /// <summary>Days to the limit of every series that has one and each replica's free disk, for the alert rules; a limit not reached within the horizon reads as the horizon.</summary>
    private async Task ReportAlertReadingsAsync(CapacityReport report, DateTimeOffset now)
    {
        var readings = report.Series
            .Where(s => s.Limit is not null && s.Forecast.Method != ForecastMethod.None && s.History.Count >= MinimumPointsForAlert)
            .Select(s => new MetricObservation(MonitoringMetrics.CapacityDaysToLimit, Labels(s), s.Forecast.DaysToLimit ?? _options.HorizonDays, now))
            .Concat(DiskReadings.Of(_env, _tier, report.Replicas, now))
            .ToList();
        if (readings.Count == 0) return;
        try
        {
            await GrainFactory.GetGrain<IAlertGrain>(_env).Report(readings);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            logger.LogDebug(ex, "Capacity readings of {Tier} not reported to the alert engine", _tier);
        }
    }

    private Dictionary<string, string> Labels(CapacitySeries s)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["environment"] = _env, ["tier"] = _tier, ["resource"] = s.Resource };
        if (s.Replica.Length > 0) labels["replica"] = s.Replica;
        if (s.Tenant.Length > 0) labels["tenant"] = s.Tenant;
        return labels;
    }

    private async Task PersistAsync()
    {
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception ex) when (ex is not InconsistentStateException)
        {
            // The history stays in memory; the next round writes again. A lost point is acceptable, a failed round is not.
            logger.LogWarning("Capacity history of {Tier} not persisted: {Error}", _tier, ex.Message);
        }
    }

    private async Task<T?> OptionalAsync<T>(Func<Task<T>> read) where T : class
    {
        try
        {
            return await read();
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException or InvalidOperationException)
        {
            logger.LogDebug(ex, "Capacity of {Tier}: an optional fact was unavailable", _tier);
            return null;
        }
    }

    private async Task ScheduledSample(CancellationToken ct)
    {
        try
        {
            await Sample();
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or OrleansException)
        {
            logger.LogWarning("Scheduled capacity sample of {Tier} failed: {Error}", _tier, ex.Message);
        }
    }
}
