using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ControlPlane.Grains.Monitoring;

namespace ControlPlane.Grains.Telemetry;

/// <summary>
/// Alerts as OpenTelemetry metrics: <c>controlplane.alerts.firing</c> (1 per firing alert, with its rule, severity
/// and labels) and <c>controlplane.alerts.transitions</c> (fired/resolved counts). The alert grain pushes its active
/// set here after every persisted evaluation.
/// </summary>
public sealed class AlertMetrics : IDisposable
{
    public const string MeterName = "ControlPlane.Alerts";

    private readonly Meter _meter;
    private readonly ConcurrentDictionary<string, IReadOnlyList<ActiveAlert>> _firing = new(StringComparer.Ordinal);
    private readonly Counter<long> _transitions;

    public AlertMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _meter = meters.Create(MeterName);
        _meter.CreateObservableGauge("controlplane.alerts.firing", Firing,
            description: "1 for every firing alert, labelled with its rule (alertname), severity and the labels of its source.");
        _transitions = _meter.CreateCounter<long>("controlplane.alerts.transitions",
            description: "Alerts that fired or resolved, by rule and phase.");
    }

    public void Record(string environment, IReadOnlyList<ActiveAlert> active, IReadOnlyList<AlertEvent> events)
    {
        _firing[environment] = active.Where(a => a.Phase == AlertPhase.Firing).ToList();
        foreach (var e in events)
            _transitions.Add(1, new("environment", environment), new("alertname", e.Key.Rule), new("phase", e.Phase.ToString().ToLowerInvariant()));
    }

    public void Forget(string environment) => _firing.TryRemove(environment, out _);

    private IEnumerable<Measurement<int>> Firing() =>
        _firing.SelectMany(kv => kv.Value.Select(a => new Measurement<int>(1,
            new KeyValuePair<string, object?>[] { new("environment", kv.Key), new("alertname", a.Key.Rule), new("severity", a.Severity.ToString().ToLowerInvariant()) }
                .Concat(a.Key.Labels.Where(l => l.Key != "environment").Select(l => new KeyValuePair<string, object?>(l.Key, l.Value))).ToArray())));

    public void Dispose() => _meter.Dispose();
}
