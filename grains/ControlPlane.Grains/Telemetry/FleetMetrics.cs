using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using ControlPlane.Grains.Health;

namespace ControlPlane.Grains.Telemetry;

/// <summary>
/// The fleet's gauges. Grains push their latest readings here; the meter reads them when an exporter
/// collects, so a silo exports exactly the replicas and tiers it hosts right now.
/// </summary>
public sealed class FleetMetrics : IDisposable
{
    public const string MeterName = "ControlPlane.Fleet";

    private readonly Meter _meter;
    private readonly ConcurrentDictionary<(string Env, string Tier, string Replica), ReplicaHealth> _replicas = new();
    private readonly ConcurrentDictionary<(string Env, string Tier), TierHealth> _tiers = new();
    private readonly Histogram<double> _probeLatency;

    public FleetMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _meter = meters.Create(MeterName);
        _meter.CreateObservableGauge("controlplane.replica.up", () => Replicas(h => h.Reachable ? 1 : 0),
            description: "1 when the last probe of the replica answered, 0 otherwise.");
        _meter.CreateObservableGauge("controlplane.replica.lag", () => Replicas(h => h.ReplayLagSeconds ?? 0),
            unit: "s", description: "Seconds since the last replayed transaction while the standby is behind.");
        _meter.CreateObservableGauge("controlplane.replica.connections", () => Replicas(h => h.Connections),
            description: "Client backends connected to the replica.");
        _meter.CreateObservableGauge("controlplane.replica.max_connections", () => Replicas(h => h.MaxConnections),
            description: "max_connections of the replica.");
        _meter.CreateObservableGauge("controlplane.replica.consecutive_failures", () => Replicas(h => h.ConsecutiveFailures),
            description: "Probes in a row that failed.");
        _meter.CreateObservableGauge("controlplane.tier.health", TierReadings,
            description: "Tier health: 1 healthy, 2 degraded, 3 down, 0 unknown.");
        _probeLatency = _meter.CreateHistogram<double>("controlplane.probe.duration", unit: "ms",
            description: "Duration of one replica probe, connect included.");
    }

    public void RecordProbe(string environment, string tier, ReplicaHealth health)
    {
        _replicas[(environment, tier, health.Name)] = health;
        _probeLatency.Record(health.ProbeLatencyMs,
            new("environment", environment), new("tier", tier), new("replica", health.Name));
    }

    public void ForgetReplica(string environment, string tier, string replica) => _replicas.TryRemove((environment, tier, replica), out _);

    public void RecordTier(string environment, string tier, TierHealth health) => _tiers[(environment, tier)] = health;

    public void ForgetTier(string environment, string tier) => _tiers.TryRemove((environment, tier), out _);

    private IEnumerable<Measurement<double>> Replicas(Func<ReplicaHealth, double> read) =>
        _replicas.Select(kv => new Measurement<double>(read(kv.Value),
            new("environment", kv.Key.Env), new("tier", kv.Key.Tier), new("replica", kv.Key.Replica)));

    private IEnumerable<Measurement<int>> TierReadings() =>
        _tiers.Select(kv => new Measurement<int>((int)kv.Value, new("environment", kv.Key.Env), new("tier", kv.Key.Tier)));

    public void Dispose() => _meter.Dispose();
}
