using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace ControlPlane.Grains.Backups;

/// <summary>Backup gauges per tier: the archive's measured RPO, the newest backup and drill. Pushed by backup grains.</summary>
public sealed class BackupMetrics : IDisposable
{
    public const string MeterName = "ControlPlane.Backups";

    private readonly Meter _meter;
    private readonly ConcurrentDictionary<(string Env, string Tier), TierBackupGauges> _tiers = new();

    public BackupMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _meter = meters.Create(MeterName);
        _meter.CreateObservableGauge("controlplane.backup.rpo", () => Read(g => g.RpoSeconds), unit: "s",
            description: "Now minus the newest moment up to which the tier's WAL is safely archived.");
        _meter.CreateObservableGauge("controlplane.backup.last_success", () => Read(g => g.LastSuccessUnixSeconds), unit: "s",
            description: "Unix time at which the tier's newest successful base backup finished (0: none).");
        _meter.CreateObservableGauge("controlplane.backup.last_size", () => Read(g => g.LastBytes), unit: "By",
            description: "Size of the tier's newest successful base backup as stored.");
        _meter.CreateObservableGauge("controlplane.backup.drill_rto", () => Read(g => g.DrillRtoSeconds), unit: "s",
            description: "Measured recovery time of the tier's newest drill.");
        _meter.CreateObservableGauge("controlplane.backup.drill_passed", () => Read(g => g.DrillPassed),
            description: "1 when the tier's newest drill passed, 0 when it failed, -1 when none ran.");
        _meter.CreateObservableGauge("controlplane.backup.archiver_restarts", () => Read(g => g.ArchiverRestarts),
            description: "Restarts of the tier's pg_receivewal since its backup grain activated.");
    }

    public void Record(string environment, string tier, Func<TierBackupGauges, TierBackupGauges> update)
    {
        ArgumentNullException.ThrowIfNull(update);
        _tiers.AddOrUpdate((environment, tier), _ => update(new TierBackupGauges()), (_, g) => update(g));
    }

    public void Forget(string environment, string tier) => _tiers.TryRemove((environment, tier), out _);

    private IEnumerable<Measurement<double>> Read(Func<TierBackupGauges, double> read) =>
        _tiers.Select(kv => new Measurement<double>(read(kv.Value), new("environment", kv.Key.Env), new("tier", kv.Key.Tier)));

    public void Dispose() => _meter.Dispose();
}

/// <summary>The latest backup figures of one tier.</summary>
public sealed record TierBackupGauges
{
    public double RpoSeconds { get; init; }
    public double LastSuccessUnixSeconds { get; init; }
    public double LastBytes { get; init; }
    public double DrillRtoSeconds { get; init; }
    public double DrillPassed { get; init; } = -1;
    public double ArchiverRestarts { get; init; }
}
