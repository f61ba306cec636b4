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
}

/// <summary>
/// Probes one instance on a grain timer and reports every observation to its tier (facts flow up).
/// The timer keeps the activation alive; the tier re-activates a replica that stops reporting.
/// </summary>
public sealed class ReplicaGrain(
    [PersistentState("replica", FleetKeys.Storage)] IPersistentState<ReplicaState> state,
    IOptions<FleetOptions> options,
    FleetMetrics metrics,
    ILogger<ReplicaGrain> logger) : Grain, IReplicaGrain
{
    private readonly FleetOptions _options = options.Value;
    private ReplicaProbe? _probe;
    private IGrainTimer? _timer;
    private ReplicaHealth? _latest;
    private int _failures;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Spec is { } spec) StartProbing(spec);
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        if (_probe is not null) await _probe.DisposeAsync();
        if (state.State.Spec is { } spec) metrics.ForgetReplica(spec.Environment, spec.Tier, spec.Name);
    }

    public async Task Configure(ReplicaSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec == state.State.Spec && _timer is not null) return;
        state.State.Spec = spec;
        await state.WriteStateAsync();
        StartProbing(spec);
    }

    public Task Ensure() => Task.CompletedTask;

    public Task<ReplicaHealth?> GetHealth() => Task.FromResult(_latest);

    private void StartProbing(ReplicaSpec spec)
    {
        _timer?.Dispose();
        if (_probe is not null)
        {
            var old = _probe;
            _ = old.DisposeAsync().AsTask();
        }
        _probe = new ReplicaProbe(
            new ReplicaEndpoint(spec.Tier, spec.Name, spec.Host, spec.Port, spec.Database, spec.User, spec.PasswordFile, spec.DataDirectory),
            _options.Timeout);
        _timer = this.RegisterGrainTimer(ProbeOnce, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.Zero,
            Period = _options.Interval,
            KeepAlive = true,
            Interleave = false,
        });
    }

    private async Task ProbeOnce(CancellationToken cancellationToken)
    {
        if (_probe is null || state.State.Spec is not { } spec) return;
        var result = await _probe.ProbeAsync(cancellationToken);
        _failures = result.Reachable ? 0 : _failures + 1;
        if (!result.Reachable && _failures == 1)
        {
            logger.LogWarning("Replica {Environment}/{Tier}/{Replica} probe failed: {Error}", spec.Environment, spec.Tier, spec.Name, result.Error);
        }
        _latest = ToHealth(spec.Name, result, _failures);
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

    internal static ReplicaHealth ToHealth(string name, ProbeResult r, int failures) => new(
        name, r.At, r.Reachable, r.Error, r.InRecovery, r.Timeline,
        r.CurrentLsn?.Value, r.ReceiveLsn?.Value, r.ReplayLsn?.Value, r.ReplayLagSeconds,
        r.WalReceiverStatus, r.Connections, r.MaxConnections, r.ServerVersion,
        r.Latency.TotalMilliseconds, failures);
}
