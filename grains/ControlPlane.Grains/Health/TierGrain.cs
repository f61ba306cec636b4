using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Streams;

namespace ControlPlane.Grains.Health;

/// <summary>Persistent part of a tier: topology, term, primary and the last published snapshot (with its version).</summary>
[GenerateSerializer, Alias("controlplane.TierState")]
public sealed class TierState
{
    [Id(0)] public TierSpec? Spec { get; set; }
    [Id(1)] public long Term { get; set; }
    [Id(2)] public string Primary { get; set; } = "";
    [Id(3)] public TierSnapshot? Snapshot { get; set; }
    [Id(4)] public FailoverSettings Settings { get; set; } = new();
    [Id(5)] public bool Paused { get; set; }
    [Id(6)] public List<DecisionRecord> Decisions { get; set; } = [];
    [Id(7)] public List<OperationRecord> Operations { get; set; } = [];
    [Id(8)] public long LastDecision { get; set; }
    [Id(9)] public long LastOperation { get; set; }

    /// <summary>Replicas on which a promotion was started and abandoned: their history is rebuilt, never rewound.</summary>
    [Id(10)] public List<string> Untrusted { get; set; } = [];

    /// <summary>Replicas that joined at run time (restored standbys); kept when the tier is registered again.</summary>
    [Id(11)] public List<ReplicaSpec> Adopted { get; set; } = [];

    /// <summary>The activation that last wrote this state; cleared when it hands the tier over cleanly. Set on
    /// activation, it means the previous owner died and may have decided a term nobody has seen.</summary>
    [Id(12)] public string? Owner { get; set; }

    /// <summary>In synchronous mode: when the tier first saw no standby able to confirm a commit; null while one can.
    /// Persisted so that a new activation keeps the clock of synchronous_degrade_after.</summary>
    [Id(13)] public DateTimeOffset? SynchronousLostSince { get; set; }
}

/// <summary>
/// Aggregates its replicas' reports into a tier verdict, versions every change, persists it, then publishes it
/// on the tier's stream. Persisting first means a watcher never sees a version the catalog does not hold, and an
/// activation that lost the compare-and-set write (a stale duplicate) publishes nothing.
/// </summary>
public sealed partial class TierGrain(
    [PersistentState("tier", FleetKeys.Storage)] IPersistentState<TierState> state,
    IOptions<FleetOptions> options,
    FleetMetrics metrics,
    ControlPlane.Grains.Security.IAuditLog audit,
    DecisionJournal journal,
    CatalogWriteStatus catalogStatus,
    ControlPlane.Grains.Hosts.IHostSilos hostSilos,
    ILogger<TierGrain> logger) : Grain, ITierGrain, IRemindable
{
    private const string KeepAliveReminder = "keepalive";
    private readonly FleetOptions _options = options.Value;
    private readonly Dictionary<string, ReplicaHealth> _latest = new(StringComparer.Ordinal);
    private IGrainTimer? _timer;
    private IAsyncStream<TierChanged>? _stream;
    private DateTimeOffset _lastPublish;
    private readonly DateTimeOffset _activatedAt = DateTimeOffset.UtcNow;
    private bool _measurementsPending;
    private string _poolAlert = "";
    private string _backupAlert = "";

    private TimeSpan StaleAfter => Schedule.Interval * _options.StaleAfterIntervals;

    /// <summary>Failover-enabled tiers probe faster: detection time is threshold × interval.</summary>
    private ProbeSchedule Schedule => state.State.Settings.AutoFailover
        ? new ProbeSchedule(state.State.Settings.ProbeInterval, state.State.Settings.ProbeTimeout, state.State.Settings.DiskWriteCheckBelowBytes, state.State.Settings.DiskFullBelowBytes)
        : new ProbeSchedule(_options.Interval, _options.Timeout, state.State.Settings.DiskWriteCheckBelowBytes, state.State.Settings.DiskFullBelowBytes);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _stream = this.GetStreamProvider(FleetKeys.StreamProvider)
            .GetStream<TierChanged>(StreamId.Create(FleetKeys.TierStreamNamespace, this.GetPrimaryKeyString()));
        RecoverFromJournal();
        if (state.State.Spec is { } spec)
        {
            await StartAsync(spec);
            await ResumeUnfinishedAsync(spec);
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        if (state.State.Spec is { } spec) metrics.ForgetTier(spec.Environment, spec.Name);
        await HandOverAsync();
    }

    public async Task Configure(TierSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec = WithAdopted(spec);
        var current = state.State;
        if (current.Spec is not null && SameSpec(current.Spec, spec) && _timer is not null) return;
        if (current.Spec is null)
        {
            current.Term = 1;
            current.Primary = spec.InitialPrimary;
        }
        current.Spec = spec;
        foreach (var gone in _latest.Keys.Where(k => spec.Replicas.All(r => r.Name != k)).ToList()) _latest.Remove(gone);
        await SaveStateAsync();
        foreach (var replica in spec.Replicas)
        {
            await Replica(spec, replica.Name).Configure(replica, Schedule);
        }
        await StartAsync(spec);
        await EvaluateAsync(forcePublish: false);
    }

    public Task<TierSnapshot?> GetSnapshot()
    {
        if (state.State.Snapshot is not { } snapshot) return Task.FromResult<TierSnapshot?>(null);
        // Probe times move every second without being changes; show the freshest without bumping the version.
        var replicas = snapshot.Replicas
            .Select(r => _latest.TryGetValue(r.Name, out var h) && h.ProbedAt > (r.LastProbeAt ?? default)
                ? r with
                {
                    LastProbeAt = h.ProbedAt, ProbeLatencyMs = h.ProbeLatencyMs,
                    Session = h.Session, SessionError = h.SessionError, ConsecutiveSessionFailures = h.ConsecutiveSessionFailures,
                    SessionCheckedAt = h.SessionCheckedAt, SessionLatencyMs = h.SessionLatencyMs,
                }
                : r)
            .ToList();
        return Task.FromResult<TierSnapshot?>(snapshot with { Replicas = replicas, Silo = RuntimeIdentity });
    }

    public async Task ReportProbe(ReplicaHealth health)
    {
        ArgumentNullException.ThrowIfNull(health);
        if (state.State.Spec is not { } spec || spec.Replicas.All(r => r.Name != health.Name)) return;
        // Reports are one-way and may queue behind a failover; an older one must not undo what a fresher probe saw.
        if (_latest.TryGetValue(health.Name, out var known) && known.ProbedAt > health.ProbedAt) return;
        _latest[health.Name] = health;
        await EvaluateAsync(forcePublish: false);
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (state.State.Spec is { } spec) await EnsureReplicasAsync(spec, onlyStale: false);
    }

    public Task Ensure() => Task.CompletedTask;

    public async Task SetPoolAlert(string alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (alert == _poolAlert) return;
        _poolAlert = alert;
        await PublishAsync(forcePublish: false);
    }

    public async Task SetBackupAlert(string alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (alert == _backupAlert) return;
        _backupAlert = alert;
        await PublishAsync(forcePublish: false);
    }

    public Task<TierSpec?> GetSpec() => Task.FromResult(state.State.Spec);

    private IReplicaGrain Replica(TierSpec spec, string name) =>
        GrainFactory.GetGrain<IReplicaGrain>(FleetKeys.Replica(spec.Environment, spec.Name, name));

    private async Task StartAsync(TierSpec spec)
    {
        _timer ??= this.RegisterGrainTimer(OnTick, new GrainTimerCreationOptions
        {
            DueTime = _options.PublishInterval,
            Period = _options.PublishInterval,
            KeepAlive = true,
            Interleave = false,
        });
        await this.RegisterOrUpdateReminder(KeepAliveReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
        await EnsureReplicasAsync(spec, onlyStale: false);
    }

    private async Task OnTick(CancellationToken cancellationToken)
    {
        if (state.State.Spec is not { } spec) return;
        FlushCatalog();
        await EvaluateAsync(forcePublish: false);
        await EnsureReplicasAsync(spec, onlyStale: true);
    }

    private async Task EnsureReplicasAsync(TierSpec spec, bool onlyStale)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var replica in spec.Replicas)
        {
            if (onlyStale && _latest.TryGetValue(replica.Name, out var h) && now - h.ProbedAt < StaleAfter) continue;
            try
            {
                await Replica(spec, replica.Name).Ensure();
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                logger.LogWarning(ex, "Tier {Environment}/{Tier} could not wake replica {Replica}", spec.Environment, spec.Name, replica.Name);
            }
        }
    }

    private async Task EvaluateAsync(bool forcePublish)
    {
        await PublishAsync(forcePublish);
        if (state.State.Spec is { } spec) await DecideAsync(spec);
    }

    private async Task PublishAsync(bool forcePublish)
    {
        var current = state.State;
        if (current.Spec is not { } spec) return;
        var now = DateTimeOffset.UtcNow;
        // A fresh activation has not heard from every replica yet: "not probed yet" is our ignorance, not news.
        // Keep the last published view until each replica reported or the grace ran out.
        if (current.Snapshot is not null && !forcePublish && now - _activatedAt < StaleAfter
            && spec.Replicas.Any(r => !_latest.ContainsKey(r.Name))) return;
        var view = TierHealthPolicy.Evaluate(spec, current.Primary, current.Term, _latest, now, StaleAfter);
        var diff = TierChangeDetector.Diff(current.Snapshot, view, current.Primary, current.Term, current.Paused, _alert, _poolAlert, _backupAlert);
        _measurementsPending |= diff.Measurements.Count > 0;
        var due = _measurementsPending && now - _lastPublish >= _options.PublishInterval;
        if (diff.Structural.Count == 0 && !due && !forcePublish) return;

        var changes = diff.Structural.Concat(diff.Measurements).ToList();
        var snapshot = new TierSnapshot(spec.Environment, spec.Name, view.Health, view.HealthReason, current.Primary,
            current.Term, (current.Snapshot?.Version ?? 0) + 1, view.Replicas, now, current.Paused, _alert, PoolAlert: _poolAlert, BackupAlert: _backupAlert);
        var previous = current.Snapshot;
        current.Snapshot = snapshot;
        try
        {
            // Deferred while the catalog is unreachable: memory is current, watchers hear it now, the catalog later.
            await SaveStateAsync();
        }
        catch (InconsistentStateException ex)
        {
            // Another activation of this tier wrote since we read: we are the stale one and must not speak.
            current.Snapshot = previous;
            logger.LogError(ex, "Tier {Environment}/{Tier} lost its state write at version {Version}; deactivating this activation",
                spec.Environment, spec.Name, snapshot.Version);
            DeactivateOnIdle();
            return;
        }
        _lastPublish = now;
        _measurementsPending = false;
        metrics.RecordTier(spec.Environment, spec.Name, view.Health);
        if (diff.Structural.Count > 0)
        {
            logger.LogInformation("Tier {Environment}/{Tier} term {Term} version {Version}: {Changes}",
                spec.Environment, spec.Name, current.Term, snapshot.Version, string.Join("; ", diff.Structural));
        }
        if (_stream is not null) await _stream.OnNextAsync(new TierChanged(snapshot.Version, changes, snapshot));
    }

    private static bool SameSpec(TierSpec a, TierSpec b) =>
        a.Environment == b.Environment && a.Name == b.Name && a.InitialPrimary == b.InitialPrimary
        && a.Replicas.SequenceEqual(b.Replicas);
}
