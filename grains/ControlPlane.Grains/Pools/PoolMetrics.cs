using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace ControlPlane.Grains.Pools;

/// <summary>
/// Pool gauges per tier and tenant. Pool grains push their latest budget; the meter reads it when an exporter
/// collects, so a silo exports exactly the pools it hosts.
/// </summary>
public sealed class PoolMetrics : IDisposable
{
    public const string MeterName = "ControlPlane.Pools";

    private readonly Meter _meter;
    private readonly ConcurrentDictionary<(string Env, string Tier), PoolBudget> _budgets = new();

    public PoolMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _meter = meters.Create(MeterName);
        _meter.CreateObservableGauge("controlplane.pool.capacity", () => Tiers(b => b.Capacity),
            description: "Connections the tier's primary can lend to leases.");
        _meter.CreateObservableGauge("controlplane.pool.unmanaged", () => Tiers(b => b.Unmanaged),
            description: "Client connections on the primary without a lease tag.");
        _meter.CreateObservableGauge("controlplane.pool.granted", () => Tenants(t => t.Granted),
            description: "Connections granted to the tenant's leases.");
        _meter.CreateObservableGauge("controlplane.pool.in_use", () => Tenants(t => t.InUse),
            description: "Connections in use, as the tenant's client libraries report.");
        _meter.CreateObservableGauge("controlplane.pool.waiting", () => Tenants(t => t.Waiting),
            description: "Opens waiting for a pooled connection, as the client libraries report.");
        _meter.CreateObservableGauge("controlplane.pool.overruns", () => Tenants(t => t.Overruns),
            description: "Leases of the tenant holding more connections than granted.");
        _meter.CreateObservableGauge("controlplane.pool.leak_suspects", () => Tenants(t => t.LeakSuspects),
            description: "Connections of the tenant idle in transaction past the suspect threshold.");
        _meter.CreateObservableGauge("controlplane.pool.open_wait_max", () => TenantWaits(t => t.OpenWaitMaxSeconds), unit: "s",
            description: "Longest wait for a connection the tenant's client libraries reported in the last minute.");
    }

    public void Record(PoolBudget budget)
    {
        ArgumentNullException.ThrowIfNull(budget);
        _budgets[(budget.Environment, budget.Tier)] = budget;
    }

    public void Forget(string environment, string tier) => _budgets.TryRemove((environment, tier), out _);

    private IEnumerable<Measurement<int>> Tiers(Func<PoolBudget, int> read) =>
        _budgets.Select(kv => new Measurement<int>(read(kv.Value), new("environment", kv.Key.Env), new("tier", kv.Key.Tier)));

    private IEnumerable<Measurement<int>> Tenants(Func<TenantBudget, int> read) =>
        _budgets.SelectMany(kv => kv.Value.Tenants.Select(t => new Measurement<int>(read(t),
            new("environment", kv.Key.Env), new("tier", kv.Key.Tier), new("tenant", t.Tenant))));

    private IEnumerable<Measurement<double>> TenantWaits(Func<TenantBudget, double> read) =>
        _budgets.SelectMany(kv => kv.Value.Tenants.Select(t => new Measurement<double>(read(t),
            new("environment", kv.Key.Env), new("tier", kv.Key.Tier), new("tenant", t.Tenant))));

    public void Dispose() => _meter.Dispose();
}
