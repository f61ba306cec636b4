using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Grains.Pools;
using ControlPlane.Postgres.Hardening;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Grains.Hardening;

/// <summary>
/// Gathers each replica's facts over SQL (its own short session: no other grain's connections), runs the pure
/// <see cref="HardeningAudit"/>, keeps the last result and the trend. Audits one replica at a time: the audit is
/// occasional and must not compete with the probes for the server.
/// </summary>
public sealed class HardeningGrain(
    [PersistentState("hardening", FleetKeys.Storage)] IPersistentState<HardeningState> state,
    IOptions<HardeningExpectations> options,
    ILogger<HardeningGrain> logger) : Grain, IHardeningGrain
{
    private readonly HardeningExpectations _expectations = options.Value;
    private IGrainTimer? _timer;

    private string Key => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (_expectations.Interval > TimeSpan.Zero)
        {
            _timer = this.RegisterGrainTimer(ScheduledAudit, new GrainTimerCreationOptions
            {
                DueTime = DueTime(state.State.Last?.AuditedAt),
                Period = _expectations.Interval,
                KeepAlive = true,
            });
        }
        return Task.CompletedTask;
    }

    public Task Ensure() => Task.CompletedTask;

    public Task<TierAudit?> GetLast() => Task.FromResult(state.State.Last);

    public Task<IReadOnlyList<AuditScorePoint>> GetTrend(int limit) =>
        Task.FromResult<IReadOnlyList<AuditScorePoint>>(state.State.Trend.TakeLast(Math.Max(0, limit)).ToList());

    public async Task<TierAudit> Audit(string? replica)
    {
        var parts = Key.Split('/');
        var (env, tier) = (parts[0], parts[1]);
        var spec = await GrainFactory.GetGrain<ITierGrain>(Key).GetSpec()
            ?? throw new InvalidOperationException($"tier '{tier}' of '{env}' is not registered yet.");
        var replicas = replica is null ? spec.Replicas : spec.Replicas.Where(r => r.Name == replica).ToList();
        if (replicas.Count == 0)
            throw new ArgumentException($"replica '{replica}' is not a replica of tier '{tier}'; its replicas are: {string.Join(", ", spec.Replicas.Select(r => r.Name))}.", nameof(replica));
        var context = await ContextAsync();
        var audits = new List<ReplicaAudit>();
        foreach (var r in replicas) audits.Add(await AuditReplicaAsync(r, context));
        var audit = new TierAudit(env, tier, context.Now, HardeningAudit.TierScore(audits), audits);
        if (replica is null) await RememberAsync(audit);
        return audit;
    }

    private async Task<ReplicaAudit> AuditReplicaAsync(ReplicaSpec spec, HardeningContext context)
    {
        try
        {
            var facts = await HardeningFactsReader.ReadAsync(ReplicaGrain.Endpoint(spec), _expectations.Timeout, CancellationToken.None);
            var findings = HardeningAudit.Run(facts, context);
            return new ReplicaAudit(spec.Name, HardeningAudit.Score(findings), findings);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or InvalidOperationException)
        {
            // Never the password: Npgsql's messages name host and port, not credentials.
            var why = $"could not read the instance: {ex.Message}";
            logger.LogWarning("Hardening audit of {Tier}/{Replica} could not read the instance: {Error}", spec.Tier, spec.Name, ex.Message);
            return new ReplicaAudit(spec.Name, 0, HardeningAudit.Unreachable(why, context), why);
        }
    }

    /// <summary>The pool's capacity, when the pool has sampled its primary (otherwise the capacity check is unknown).</summary>
    private async Task<HardeningContext> ContextAsync()
    {
        int? capacity = null;
        var reserve = 0;
        try
        {
            var budget = await GrainFactory.GetGrain<IPoolGrain>(Key).GetBudget();
            if (budget.SampledAt is not null) capacity = budget.Capacity;
            reserve = budget.Settings.ControlPlaneReserve;
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            logger.LogDebug(ex, "Pool budget of {Tier} unavailable for the hardening audit", Key);
        }
        return new HardeningContext(_expectations, capacity, reserve, DateTimeOffset.UtcNow);
    }

    private async Task RememberAsync(TierAudit audit)
    {
        state.State.Last = audit;
        state.State.Trend.Add(HardeningAudit.Point(audit));
        if (state.State.Trend.Count > _expectations.TrendLength) state.State.Trend.RemoveRange(0, state.State.Trend.Count - _expectations.TrendLength);
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception ex) when (ex is not InconsistentStateException)
        {
            // The audit stays in memory; the next one writes again. Losing a trend point is acceptable, failing the audit is not.
            logger.LogWarning("Hardening audit of {Tier} not persisted: {Error}", Key, ex.Message);
        }
    }

    private async Task ScheduledAudit(CancellationToken ct)
    {
        try
        {
            var audit = await Audit(null);
            logger.LogInformation("Hardening audit of {Tier}: score {Score}", Key, audit.Score);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or OrleansException)
        {
            logger.LogWarning("Scheduled hardening audit of {Tier} failed: {Error}", Key, ex.Message);
        }
    }

    /// <summary>The next audit is due one interval after the last (at once when there was none or it is overdue).</summary>
    private TimeSpan DueTime(DateTimeOffset? last)
    {
        if (last is not { } at) return TimeSpan.FromSeconds(5);
        var due = at + _expectations.Interval - DateTimeOffset.UtcNow;
        return due < TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : due;
    }
}
