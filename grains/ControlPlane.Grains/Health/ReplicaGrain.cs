using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Telemetry;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Grains.Health;

/// <summary>Persistent part of a replica grain: only where the instance is. Health is re-learned by probing.</summary>
[GenerateSerializer, Alias("controlplane.ReplicaState")]
public sealed class ReplicaState
{
    [Id(0)] public ReplicaSpec? Spec { get; set; }

    /// <summary>Highest term of any command this replica obeyed; a command from an older term is refused.</summary>
    [Id(1)] public long HighestTerm { get; set; }

    [Id(2)] public ProbeSchedule? Schedule { get; set; }
}

/// <summary>How often a replica is probed and how long one probe may take; set by its tier.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ProbeSchedule")]
public sealed record ProbeSchedule([property: Id(0)] TimeSpan Interval, [property: Id(1)] TimeSpan Timeout);

/// <summary>
/// Probes one instance on a grain timer and reports every observation to its tier (facts flow up).
/// The timer keeps the activation alive; the tier re-activates a replica that stops reporting.
/// </summary>
public sealed partial class ReplicaGrain(
    [PersistentState("replica", FleetKeys.Storage)] IPersistentState<ReplicaState> state,
    IOptions<FleetOptions> options,
    FleetMetrics metrics,
    ControlPlane.Grains.Failover.CatalogStatus catalogStatus,
    ILogger<ReplicaGrain> logger) : Grain, IReplicaGrain
{
    private readonly FleetOptions _options = options.Value;
    private ReplicaProbe? _probe;
    private IGrainTimer? _timer;
    private ReplicaHealth? _latest;
    private int _failures;
    private ulong? _lastWritableLsn;
    private IReadOnlyList<string> _lastSyncStandbys = [];

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Spec is { } spec) StartProbing(spec);
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        if (_probe is not null) await _probe.DisposeAsync();
        await StopSamplingAsync();
        if (state.State.Spec is { } spec) metrics.ForgetReplica(spec.Environment, spec.Tier, spec.Name);
    }

    public async Task Configure(ReplicaSpec spec, ProbeSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(schedule);
        if (spec == state.State.Spec && schedule == state.State.Schedule && _timer is not null) return;
        state.State.Spec = spec;
        state.State.Schedule = schedule;
        await Catalog.WriteAsync();
        StartProbing(spec);
    }

    public Task Ensure() => Task.CompletedTask;

    public async Task Retire()
    {
        _timer?.Dispose();
        _timer = null;
        if (state.State.Spec is { } spec) metrics.ForgetReplica(spec.Environment, spec.Tier, spec.Name);
        state.State.Spec = null;
        await Catalog.WriteAsync();
        DeactivateOnIdle();
    }

    public Task<ReplicaHealth?> GetHealth() => Task.FromResult(_latest);

    private ProbeSchedule Schedule => state.State.Schedule ?? new ProbeSchedule(_options.Interval, _options.Timeout);

    private void StartProbing(ReplicaSpec spec)
    {
        _timer?.Dispose();
        _driver = spec.DataDirectory is null ? null : CreateDriver(spec);
        if (_probe is not null)
        {
            var old = _probe;
            _ = old.DisposeAsync().AsTask();
        }
        _probe = new ReplicaProbe(
            Endpoint(spec),
            Schedule.Timeout);
        _timer = this.RegisterGrainTimer(ProbeOnce, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.Zero,
            Period = Schedule.Interval,
            KeepAlive = true,
            // Probes go on while a long command (a rejoin, a clean stop) runs, so the tier keeps seeing the truth.
            Interleave = true,
        });
        StartSampling(spec);
    }

    private async Task ProbeOnce(CancellationToken cancellationToken)
    {
        if (_probe is null || state.State.Spec is not { } spec) return;
        var result = await _probe.ProbeAsync(cancellationToken);
        Catalog.Flush();
        _failures = result.Reachable ? 0 : _failures + 1;
        if (result is { Reachable: true, InRecovery: false, CurrentLsn: { } lsn }) _lastWritableLsn = lsn.Value;
        // Like the LSN, the synchronous standbys are remembered from the last probe that saw the instance writable:
        // synchronous-mode election needs them exactly when the primary stops answering.
        if (result is { Reachable: true, InRecovery: false }) _lastSyncStandbys = SyncStandbysOf(result);
        else if (result.Reachable) _lastSyncStandbys = [];
        if (!result.Reachable && _failures == 1)
        {
            logger.LogWarning("Replica {Environment}/{Tier}/{Replica} probe failed: {Error}", spec.Environment, spec.Tier, spec.Name, result.Error);
        }
        _latest = ToHealth(spec.Name, result, _failures, _lastWritableLsn, _lastSyncStandbys);
        metrics.RecordProbe(spec.Environment, spec.Tier, _latest);
        try
        {
            await GrainFactory.GetGrain<ITierGrain>(FleetKeys.Tier(spec.Environment, spec.Tier)).ReportProbe(_latest);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            // The tier is moving between silos; the next probe reports again.
            logger.LogDebug(ex, "Replica {Environment}/{Tier}/{Replica} could not report to its tier", spec.Environment, spec.Tier, spec.Name);
        }
    }

    internal static ReplicaHealth ToHealth(string name, ProbeResult r, int failures, ulong? lastWritableLsn, IReadOnlyList<string>? lastSyncStandbys = null) => new(
        name, r.At, r.Reachable, r.Error, r.InRecovery, r.Timeline,
        r.CurrentLsn?.Value, r.ReceiveLsn?.Value, r.ReplayLsn?.Value, r.ReplayLagSeconds,
        r.WalReceiverStatus, r.Connections, r.MaxConnections, r.ServerVersion,
        r.Latency.TotalMilliseconds, failures,
        r.WalReceiverUpstream,
        r.Reachable ? SyncStandbysOf(r) : lastSyncStandbys ?? [],
        r.WalReceiverLastMessageAgeSeconds,
        lastWritableLsn,
        r.Term?.Term,
        r.Term?.Primary);

    private static IReadOnlyList<string> SyncStandbysOf(ProbeResult r) =>
        r.Replication.Where(p => p.SyncState is "sync" or "quorum").Select(p => p.ApplicationName).ToList();

    internal static ReplicaEndpoint Endpoint(ReplicaSpec spec) =>
        new(spec.Tier, spec.Name, spec.Host, spec.Port, spec.Database, spec.User, spec.PasswordFile, spec.DataDirectory);
}
