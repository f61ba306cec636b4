using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Postgres.Monitoring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Grains.Health;

/// <summary>
/// The replica's performance sampler (docs/monitoring.md): the cheap metric family every
/// <see cref="MonitoringOptions.CheapInterval"/>, the heavy one every <see cref="MonitoringOptions.HeavyInterval"/>,
/// both over SQL on the replica's own connection. Readings go up to the environment's alert grain; the newest
/// samples and a bounded history per metric stay here for <see cref="IReplicaMonitor"/>.
/// </summary>
public sealed partial class ReplicaGrain : IReplicaMonitor
{
    private PerfInspector? _perf;
    private IGrainTimer? _perfTimer;
    private MonitoringOptions _monitoring = new();
    private StatementBaseline _baseline = new();
    private IReadOnlyDictionary<long, StatementTrack> _tracks = new Dictionary<long, StatementTrack>();
    private readonly Dictionary<string, MetricHistory> _history = new(StringComparer.Ordinal);
    private CheapSample? _cheap;
    private HeavySample? _heavy;
    private DateTimeOffset _heavyDue;
    private string _perfError = "";
    private bool _perfRunning;

    public Task<PerfReport> GetPerformance()
    {
        var name = state.State.Spec?.Name ?? "";
        return Task.FromResult(PerfReports.Build(name, _cheap, _heavy, _tracks, _perfError));
    }

    public Task<IReadOnlyList<MetricPoint>> GetMetricHistory(string metric) =>
        Task.FromResult(_history.TryGetValue(metric, out var h) ? h.Points() : (IReadOnlyList<MetricPoint>)[]);

    private void StartMonitoring(ReplicaSpec spec)
    {
        _perfTimer?.Dispose();
        if (_perf is not null) _ = _perf.DisposeAsync().AsTask();
        _monitoring = ServiceProvider.GetService<IOptions<MonitoringOptions>>()?.Value ?? new MonitoringOptions();
        _baseline = new StatementBaseline(_monitoring.RegressionFactor, _monitoring.RegressionFloorMs);
        _perf = new PerfInspector(Endpoint(spec), TimeSpan.FromSeconds(10));
        _heavyDue = DateTimeOffset.UtcNow;
        _perfTimer = this.RegisterGrainTimer(MonitorOnce, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.FromSeconds(2),
            Period = _monitoring.CheapInterval,
            KeepAlive = true,
            Interleave = true,
        });
    }

    private async Task StopMonitoringAsync()
    {
        _perfTimer?.Dispose();
        _perfTimer = null;
        if (_perf is not null) await _perf.DisposeAsync();
        _perf = null;
    }

    private async Task MonitorOnce(CancellationToken cancellationToken)
    {
        if (_perf is null || _perfRunning || state.State.Spec is not { } spec) return;
        _perfRunning = true;
        try
        {
            var now = DateTimeOffset.UtcNow;
            var previous = _cheap;
            _cheap = await _perf.SampleCheapAsync(cancellationToken);
            var heavyNow = now >= _heavyDue;
            if (heavyNow)
            {
                _heavyDue = now + _monitoring.HeavyInterval;
                _heavy = await _perf.SampleHeavyAsync(cancellationToken);
                _tracks = _baseline.Next(_tracks, _heavy.Statements);
            }
            _perfError = "";
            var labels = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["environment"] = spec.Environment,
                ["tier"] = spec.Tier,
                ["replica"] = spec.Name,
            };
            var readings = PerfReadings.Of(_cheap, heavyNow ? _heavy : null, heavyNow ? _tracks : null, _latest, labels, previous);
            // Labelled series (one per partitioned table) stay out of the per-metric history, which is one series per metric.
            foreach (var r in readings.Where(r => r.Labels.Count == labels.Count))
            {
                if (!_history.TryGetValue(r.Metric, out var h)) _history[r.Metric] = h = new MetricHistory();
                h.Add(r.At, r.Value);
            }
            await GrainFactory.GetGrain<IAlertGrain>(spec.Environment).Report(readings);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException)
        {
            // Reachability is the probe's business; a missed sample only leaves the readings a cycle older.
            _perfError = ex.Message;
        }
        catch (Exception ex) when (ex is OrleansException)
        {
            logger.LogDebug(ex, "Replica {Environment}/{Tier}/{Replica} could not report its readings", spec.Environment, spec.Tier, spec.Name);
        }
        finally
        {
            _perfRunning = false;
        }
    }
}
