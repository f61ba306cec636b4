using ControlPlane.Grains.Backups;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Postgres.Sla;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Grains.Sla;

/// <summary>
/// Writes to the tier's current primary every probe interval and books the result (<see cref="SlaLedger"/>). The
/// measurement is the client's view: a primary that the tier believes healthy but that cannot commit is down here.
/// The tier keeper touches this grain every couple of seconds, so a dead silo's measurement resumes on a survivor;
/// the time in between is unobserved, not counted as up.
/// </summary>
public sealed class SlaGrain(
    [PersistentState("sla", FleetKeys.Storage)] IPersistentState<SlaState> state,
    IOptions<SlaOptions> options,
    ILogger<SlaGrain> logger) : Grain, ISlaGrain
{
    private const int ArchiveEveryTicks = 10;
    private const int ReadingsEveryTicks = 5;
    private static readonly TimeSpan BudgetWindow = TimeSpan.FromDays(30);
    private readonly SlaOptions _options = options.Value;
    private WriteProbe? _probe;
    private TierSpec? _spec;
    private DateTimeOffset _persistedAt = DateTimeOffset.UtcNow;
    private long _ticks;

    private string Key => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (_options.ProbeInterval > TimeSpan.Zero)
        {
            this.RegisterGrainTimer(Tick, new GrainTimerCreationOptions
            {
                DueTime = TimeSpan.Zero,
                Period = _options.ProbeInterval,
                KeepAlive = true,
            });
        }
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await PersistAsync();
        if (_probe is not null) await _probe.DisposeAsync();
    }

    public Task Ensure() => Task.CompletedTask;

    public async Task<SlaReport> GetReport(TimeSpan period)
    {
        var parts = Key.Split('/');
        var decisions = await GrainFactory.GetGrain<ITierGrain>(Key).ListDecisions(500);
        return SlaReporter.Report(parts[0], parts[1], state.State, period, decisions, _options, DateTimeOffset.UtcNow);
    }

    private async Task Tick(CancellationToken ct)
    {
        _ticks++;
        var observation = await ObserveAsync(ct);
        if (observation is null) return;
        var transition = SlaLedger.Observe(state.State, observation, _options);
        if (transition)
        {
            var outage = state.State.Outages[^1];
            if (outage.End is null) logger.LogWarning("Tier {Tier} not writable since {Start:O}: {Reason}", Key, outage.Start, outage.Reason);
            else logger.LogInformation("Tier {Tier} writable again after {Seconds:0.0}s on {Primary} (term {Term})", Key, outage.Duration(outage.End.Value).TotalSeconds, outage.PrimaryAfter, outage.TermAfter);
        }
        if (_ticks % ArchiveEveryTicks == 0) await ObserveArchiveAsync(observation.At);
        if (_ticks % ReadingsEveryTicks == 0) await ReportReadingsAsync(observation.At);
        if (transition || observation.At - _persistedAt >= _options.PersistInterval) await PersistAsync();
    }

    /// <summary>One write to the primary the tier names now; null when the tier is not registered yet.</summary>
    private async Task<SlaObservation?> ObserveAsync(CancellationToken ct)
    {
        var tier = GrainFactory.GetGrain<ITierGrain>(Key);
        var snapshot = await tier.GetSnapshot();
        if (snapshot is null) return null;
        if (_spec is null || _spec.Replicas.All(r => r.Name != snapshot.Primary)) _spec = await tier.GetSpec();
        var primary = _spec?.Replicas.FirstOrDefault(r => r.Name == snapshot.Primary);
        if (primary is null)
            return new SlaObservation(DateTimeOffset.UtcNow, false, snapshot.Primary, snapshot.Term, $"the tier names no known primary ('{snapshot.Primary}')");
        var endpoint = ReplicaGrain.Endpoint(primary);
        if (_probe is null || _probe.Endpoint != endpoint)
        {
            if (_probe is not null) await _probe.DisposeAsync();
            _probe = new WriteProbe(endpoint, _options.ProbeTimeout);
        }
        var check = await _probe.WriteAsync(snapshot.Name, snapshot.Term, ct);
        return new SlaObservation(DateTimeOffset.UtcNow, check.Writable, primary.Name, snapshot.Term, check.Writable ? "" : $"{primary.Name}: {check.Error}");
    }

    private async Task ObserveArchiveAsync(DateTimeOffset now)
    {
        try
        {
            var archive = await GrainFactory.GetGrain<IBackupGrain>(Key).GetArchiveStatus();
            if (archive.MeasuredAt != DateTimeOffset.MinValue) SlaLedger.ObserveArchiveRpo(state.State, now, archive.Rpo, _options);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            logger.LogDebug(ex, "Archive status of {Tier} unavailable for its SLA", Key);
        }
    }

    /// <summary>The writable flag and the 30-day budget left, for the alert rules TierNotWritable and SlaErrorBudgetLow.</summary>
    private async Task ReportReadingsAsync(DateTimeOffset now)
    {
        var parts = Key.Split('/');
        var report = SlaReporter.Report(parts[0], parts[1], state.State, BudgetWindow, [], _options, now);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["environment"] = parts[0], ["tier"] = parts[1] };
        var readings = new List<MetricObservation> { new(MonitoringMetrics.TierWritable, labels, state.State.LastWritable ? 1 : 0, now) };
        if (report.BudgetRemainingRatio is { } ratio) readings.Add(new(MonitoringMetrics.SlaErrorBudgetRemaining, labels, ratio, now));
        try
        {
            await GrainFactory.GetGrain<IAlertGrain>(parts[0]).Report(readings);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            logger.LogDebug(ex, "SLA readings of {Tier} not reported", Key);
        }
    }

    private async Task PersistAsync()
    {
        try
        {
            await state.WriteStateAsync();
            _persistedAt = DateTimeOffset.UtcNow;
        }
        catch (Exception ex) when (ex is not InconsistentStateException)
        {
            // The catalog may be the thing that is down: keep measuring in memory and write at the next chance.
            logger.LogWarning("SLA history of {Tier} not persisted: {Error}", Key, ex.Message);
        }
    }
}
