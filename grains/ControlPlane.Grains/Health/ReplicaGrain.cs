using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Telemetry;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Grains.Hosts;
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

    /// <summary>Reports of divergent WAL saved before this instance was rewound or rebuilt (docs/failover.md#divergent-old-primary), newest last.</summary>
    [Id(3)] public List<ControlPlane.Grains.Failover.DivergenceRecord> Divergences { get; set; } = [];
}

/// <summary>How often a replica is probed and how long one probe may take; set by its tier.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ProbeSchedule")]
public sealed record ProbeSchedule(
    [property: Id(0)] TimeSpan Interval,
    [property: Id(1)] TimeSpan Timeout,
    // The tier's disk-full thresholds (FailoverSettings): when the disk write check runs, and what counts as full.
    [property: Id(2)] long DiskWriteCheckBelowBytes = DiskSpace.WriteCheckBelowBytes,
    [property: Id(3)] long DiskFullBelowBytes = DiskSpace.FullBelowBytes);

/// <summary>
/// Probes one instance on a grain timer and reports every observation to its tier (facts flow up).
/// The timer keeps the activation alive; the tier re-activates a replica that stops reporting. Placed on the silo of
/// its host (<see cref="HostPlacement"/>); activated elsewhere it acts over SQL only, and moves home once its host's
/// silo is back.
/// </summary>
[HostPlacement]
public sealed partial class ReplicaGrain(
    [PersistentState("replica", FleetKeys.Storage)] IPersistentState<ReplicaState> state,
    IOptions<FleetOptions> options,
    FleetMetrics metrics,
    ControlPlane.Grains.Failover.CatalogWriteStatus catalogStatus,
    HostIdentity host,
    IHostSilos hostSilos,
    ILogger<ReplicaGrain> logger) : Grain, IReplicaGrain
{
    private readonly FleetOptions _options = options.Value;
    private ReplicaProbe? _probe;
    private SessionProbe? _sessionProbe;
    private int _sessionFailures;
    private long _probes;
    private SessionCheck _lastSession = SessionCheck.NotChecked;
    private readonly SessionCheckQueue _sessionsInFlight = new();
    private DateTimeOffset? _lastSessionAt;
    private bool _knownStandby;
    private IGrainTimer? _timer;
    private ReplicaHealth? _latest;
    private int _failures;
    private ulong? _lastWritableLsn;
    private IReadOnlyList<string> _lastSyncStandbys = [];
    private IReadOnlyList<string> _lastLostSlots = [];
    private bool _movingHome;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Spec is { } spec) StartProbing(spec);
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        _watchTimer?.Dispose();
        if (_probe is not null) await _probe.DisposeAsync();
        if (_sessionProbe is not null) await _sessionProbe.DisposeAsync();
        await StopSamplingAsync();
        await StopMonitoringAsync();
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
        _watchTimer?.Dispose();
        _watchTimer = null;
        await StopMonitoringAsync();
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
        _driver = InstanceDrivers.For(spec, host, logger);
        if (_probe is not null)
        {
            var old = _probe;
            _ = old.DisposeAsync().AsTask();
        }
        if (_sessionProbe is not null)
        {
            var old = _sessionProbe;
            _ = old.DisposeAsync().AsTask();
        }
        _probe = new ReplicaProbe(
            Endpoint(spec),
            Schedule.Timeout);
        _sessionProbe = new SessionProbe(Endpoint(spec), SessionDeadline);
        _sessionsInFlight.Clear();
        _timer = this.RegisterGrainTimer(ProbeOnce, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.Zero,
            Period = Schedule.Interval,
            KeepAlive = true,
            // Probes go on while a long command (a rejoin, a clean stop) runs, so the tier keeps seeing the truth.
            Interleave = true,
        });
        StartSampling(spec);
        StartMonitoring(spec);
        StartWatching();
    }

    private async Task ProbeOnce(CancellationToken cancellationToken)
    {
        if (_probe is null || state.State.Spec is not { } spec) return;
        MoveHomeWhenPossible(spec);
        _probing = true;
        try
        {
            await ProbeAndReportAsync(_probe, spec, cancellationToken);
        }
        finally
        {
            _probing = false;
        }
    }

    private async Task ProbeAndReportAsync(ReplicaProbe probe, ReplicaSpec spec, CancellationToken cancellationToken)
    {
        // The fresh-connection check runs beside the pooled probe (with its own, longer deadline).
        // It is not cancelled with the tick: a check outliving the pooled probe is picked up by a later probe.
        if (SessionCheckDue() && _sessionProbe is { } sessionProbe)
        {
            var capacity = SessionCheckQueue.Capacity(_knownStandby && _sessionFailures == 0, SessionDeadline, Schedule.Interval);
            _sessionsInFlight.TryStart(capacity, () => sessionProbe.CheckAsync(CancellationToken.None));
        }
        var result = await probe.ProbeAsync(cancellationToken);
        Catalog.Flush();
        await ObserveFailureModesAsync(probe, spec, result, cancellationToken);
        var failuresBefore = _sessionFailures;
        var sessions = await _sessionsInFlight.CollectAsync(Schedule.Timeout - (DateTimeOffset.UtcNow - result.At));
        _probes++;
        foreach (var ended in sessions) RecordSession(ended, result.At);
        var session = sessions.Count > 0 ? sessions[^1] : SessionCheck.NotChecked;
        _failures = result.Reachable ? 0 : _failures + 1;
        if (result.Reachable) _knownStandby = result.InRecovery;
        if (result is { Reachable: true, InRecovery: false, CurrentLsn: { } lsn }) _lastWritableLsn = lsn.Value;
        // Like the LSN, the synchronous standbys are remembered from the probes that saw the instance writable:
        // synchronous-mode election needs them exactly when the primary stops answering (SynchronousHolders).
        if (result is { Reachable: true, InRecovery: false })
            _lastSyncStandbys = SynchronousHolders.Next(_lastSyncStandbys, SyncStandbysOf(result), result.SynchronousStandbyNames);
        else if (result.Reachable) _lastSyncStandbys = [];
        // The same for its lost slots: an election held because the primary stopped answering must still know which
        // standby cannot stream.
        if (result is { Reachable: true, InRecovery: false }) _lastLostSlots = result.LostSlots;
        else if (result.Reachable) _lastLostSlots = [];
        if (!result.Reachable && _failures == 1)
        {
            logger.LogWarning("Replica {Environment}/{Tier}/{Replica} probe failed: {Error}", spec.Environment, spec.Tier, spec.Name, result.Error);
        }
        if (session.CannotOpenSession && failuresBefore == 0)
        {
            logger.LogWarning("Replica {Environment}/{Tier}/{Replica} opens no new session: {Outcome} {Error}",
                spec.Environment, spec.Tier, spec.Name, session.Outcome, session.Error);
        }
        _latest = WithFailureModes(ToHealth(spec.Name, result, _failures, _lastWritableLsn, _lastSyncStandbys)) with
        {
            Session = SessionStates.From(_lastSession.Outcome),
            SessionError = _lastSession.Error,
            ConsecutiveSessionFailures = _sessionFailures,
            SessionCheckedAt = _lastSessionAt,
            SessionLatencyMs = _lastSession.Latency.TotalMilliseconds,
            PostmasterAlive = result.Reachable && !session.CannotOpenSession ? null : PostmasterAlive(),
            LostSlots = _lastLostSlots,
        };
        metrics.RecordProbe(spec.Environment, spec.Tier, _latest);
        ReportFailureModeReadings(spec, _latest);
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

    /// <summary>
    /// Every probe of a replica that is (or may be) the primary opens a fresh session: that is the one whose
    /// clients a hung postmaster strands, and detection counts in probes. A replica known to be a standby is checked
    /// every <see cref="StandbySessionCheckEvery"/>th probe: enough to keep a standby that takes no new session from
    /// being promoted, and to show it, at a tenth of the connection churn; a standby whose last check failed is
    /// checked again at every probe, so one slow check does not keep it ineligible for ten probes.
    /// </summary>
    private bool SessionCheckDue() => !_knownStandby || _sessionFailures > 0 || _probes % StandbySessionCheckEvery == 0;

    private const int StandbySessionCheckEvery = 10;

    // Four times the probe's deadline: opening a session costs the server a fork and an authentication, which a loaded
    // host stretches; a check that slow is still collected (at a later probe), not counted as a failure.
    private TimeSpan SessionDeadline => Schedule.Timeout * 4;

    private void RecordSession(SessionCheck session, DateTimeOffset at)
    {
        if (session.Outcome == SessionOutcome.NotChecked) return;
        _sessionFailures = session.CannotOpenSession ? _sessionFailures + 1 : 0;
        _lastSession = session;
        _lastSessionAt = at;
    }

    /// <summary>Whether the postmaster of a local instance runs, from /proc; null when the instance is not local.</summary>
    private bool? PostmasterAlive() => _driver?.PostmasterAlive();

    /// <summary>
    /// Acting over SQL only while the silo of the replica's host is in the cluster: move there (the placement
    /// director puts it on that silo), so commands that need the host (a rejoin after node loss) can run again.
    /// </summary>
    private void MoveHomeWhenPossible(ReplicaSpec spec)
    {
        if (_driver is not { OnHost: false } || spec.HostName is not { } home || spec.DataDirectory is null) return;
        if (!hostSilos.IsActive(home))
        {
            // Gone again before the move: ask again when it is back.
            _movingHome = false;
            return;
        }
        if (_movingHome) return;
        _movingHome = true;
        logger.LogWarning("Replica {Environment}/{Tier}/{Replica} moves to the silo of its host {Host}, which is back in the cluster",
            spec.Environment, spec.Tier, spec.Name, home);
        this.MigrateOnIdle();
    }

    internal static ReplicaHealth ToHealth(string name, ProbeResult r, int failures, ulong? lastWritableLsn, IReadOnlyList<string>? lastSyncStandbys = null) => new(
        name, r.At, r.Reachable, r.Error, r.InRecovery, r.Timeline,
        r.CurrentLsn?.Value, r.ReceiveLsn?.Value, r.ReplayLsn?.Value, r.ReplayLagSeconds,
        r.WalReceiverStatus, r.Connections, r.MaxConnections, r.ServerVersion,
        r.Latency.TotalMilliseconds, failures,
        r.WalReceiverUpstream,
        lastSyncStandbys ?? (r.Reachable ? SyncStandbysOf(r) : []),
        r.WalReceiverLastMessageAgeSeconds,
        lastWritableLsn,
        r.Term?.Term,
        r.Term?.Primary);

    private static IReadOnlyList<string> SyncStandbysOf(ProbeResult r) =>
        r.Replication.Where(p => p.SyncState is "sync" or "quorum").Select(p => p.ApplicationName).ToList();

    internal static ReplicaEndpoint Endpoint(ReplicaSpec spec) =>
        new(spec.Tier, spec.Name, spec.Host, spec.Port, spec.Database, spec.User, spec.PasswordFile, spec.DataDirectory);
}
