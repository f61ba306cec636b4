using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ControlPlane.Grains.Monitoring;

namespace ControlPlane.Grains.Telemetry;

/// <summary>
/// Every metric alert rules can read, exported as a gauge named <c>controlplane.monitoring.METRIC</c>
/// (<c>controlplane_monitoring_METRIC</c> on /metrics) with the labels of its source, so a dashboard and a rule read
/// the same numbers. The alert grain records each reading it receives; a series not reported for
/// <see cref="Stale"/> is dropped (a replica removed, the alert grain moved to another silo).
/// </summary>
public sealed class ReadingMetrics : IDisposable
{
    public const string MeterName = "ControlPlane.Monitoring";
    public const string Prefix = "controlplane.monitoring.";
    public static readonly TimeSpan Stale = TimeSpan.FromMinutes(15);

    private readonly Meter _meter;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, MetricObservation>> _series = new(StringComparer.Ordinal);
    private readonly TimeProvider _clock;

    public ReadingMetrics(IMeterFactory meters) : this(meters, TimeProvider.System)
    {
    }

    public ReadingMetrics(IMeterFactory meters, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _meter = meters.Create(MeterName);
        _clock = clock;
        foreach (var metric in MonitoringMetrics.All)
        {
            var series = _series.GetOrAdd(metric.Name, _ => new(StringComparer.Ordinal));
            _meter.CreateObservableGauge(Prefix + metric.Name, () => Observe(series), description: $"{metric.Meaning} ({metric.Unit})");
        }
    }

    /// <summary>The exported name of a rule metric on the Prometheus endpoint.</summary>
    public static string PrometheusName(string metric) => (Prefix + metric).Replace('.', '_');

    public void Record(IEnumerable<MetricObservation> readings)
    {
        ArgumentNullException.ThrowIfNull(readings);
        foreach (var r in readings)
        {
            if (!_series.TryGetValue(r.Metric, out var series)) continue;
            series[Identity(r.Labels)] = r;
        }
    }

    private IEnumerable<Measurement<double>> Observe(ConcurrentDictionary<string, MetricObservation> series)
    {
        var cutoff = _clock.GetUtcNow() - Stale;
        foreach (var (key, r) in series)
        {
            if (r.At < cutoff)
            {
                series.TryRemove(key, out _);
                continue;
            }
            yield return new Measurement<double>(r.Value, r.Labels.OrderBy(l => l.Key, StringComparer.Ordinal)
                .Select(l => new KeyValuePair<string, object?>(l.Key, l.Value)).ToArray());
        }
    }

    private static string Identity(IReadOnlyDictionary<string, string> labels) =>
        string.Join('\u001f', labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value));

    public void Dispose() => _meter.Dispose();
}
