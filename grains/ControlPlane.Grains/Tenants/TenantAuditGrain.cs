using System.Diagnostics;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Monitoring;
using ControlPlane.Grains.Pools;
using ControlPlane.Grains.Security;
using ControlPlane.Postgres.Tenants;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ControlPlane.Grains.Tenants;

/// <summary>
/// One tier's isolation audit and scheduled probe. The audit gathers facts (the tenants placed on the tier, from their
/// grains; the catalog, from the current primary in one snapshot), calls the pure <see cref="IsolationAuditRules"/>,
/// persists the result, hands each tenant its findings, and reports the count of critical ones to the alert engine
/// (TenantIsolationAuditCritical). A probe round asks a sample of tenants to probe one other tenant each.
/// </summary>
public sealed class TenantAuditGrain(
    [PersistentState("tenantaudit", FleetKeys.Storage)] IPersistentState<TenantAuditState> state,
    IOptions<TenantAuditOptions> options,
    IAuditLog audit,
    ILogger<TenantAuditGrain> logger) : Grain, ITenantAuditGrain
{
    public const string Scheduler = "controlplane:schedule";
    private readonly TenantAuditOptions _options = options.Value;
    private string _env = "";
    private string _tier = "";

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var key = this.GetPrimaryKeyString();
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        (_env, _tier) = (key[..slash], key[(slash + 1)..]);
        Schedule(_options.AuditInterval, () => Audit(Scheduler));
        Schedule(_options.ProbeInterval, () => ProbeRound(Scheduler));
        return Task.CompletedTask;
    }

    public Task Ensure() => Task.CompletedTask;

    public Task<TierIsolationAudit?> GetLast() => Task.FromResult(state.State.Last);

    public async Task<TierIsolationAudit> Audit(string principal)
    {
        var clock = Stopwatch.StartNew();
        var tenants = await TenantsAsync();
        var audited = tenants.Select(t => new AuditedTenant(t.Name, t.Placements.Single(p => p.Tier == _tier).Kind)).ToList();
        TierIsolationAudit result;
        try
        {
            var primary = await TenantTiers.PrimaryAsync(GrainFactory, _env, _tier);
            using var deadline = new CancellationTokenSource(_options.AuditTimeout);
            var facts = await IsolationFactsReader.ReadAsync(primary, deadline.Token);
            var findings = IsolationAuditRules.Evaluate(facts, audited);
            var objects = facts.Tables.Count + facts.Policies.Count + facts.Roles.Count + facts.Grants.Count + facts.Functions.Count + facts.Views.Count + facts.Sequences.Count;
            result = new TierIsolationAudit(_tier, DateTimeOffset.UtcNow, primary.Name, clock.Elapsed, audited.Count, objects, findings);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or IOException or OperationCanceledException or TimeoutException)
        {
            // Npgsql's messages name host and port, never the password. The previous findings stay on the tenants.
            logger.LogWarning("Isolation audit of {Environment}/{Tier} failed: {Message}", _env, _tier, e.Message);
            throw new TenantRefusedException($"the isolation audit of tier '{_tier}' could not read its primary's catalog: {e.Message}");
        }
        state.State.Last = result;
        await state.WriteStateAsync();
        await Task.WhenAll(tenants.Select(t => GrainFactory.GetGrain<ITenantGrain>(TenantKeys.Of(_env, t.Name))
            .RecordAudit(new TenantTierAudit(_tier, result.At, result.For(t.Name)))));
        logger.LogInformation("Isolation audit of {Environment}/{Tier} on {Replica}: {Tenants} tenant(s), {Objects} object(s), {Findings} finding(s), {Critical} critical, in {Took} ms",
            _env, _tier, result.Replica, result.Tenants, result.Objects, result.Findings.Count, result.Critical, (long)result.Took.TotalMilliseconds);
        foreach (var f in result.Findings.Where(f => f.Severity == IsolationSeverity.Critical))
            logger.LogCritical("Tenant isolation audit: {Environment}/{Tier} {Rule} on {Object} (tenant {Tenant}): {Explanation}", _env, _tier, f.Rule, f.Object, f.Tenant, f.Explanation);
        _ = audit.AppendAsync(new AuditEntry
        {
            Principal = principal,
            Rpc = "tenants/audit",
            Outcome = result.Critical == 0 ? AuditOutcome.Ok : AuditOutcome.Failed,
            Target = FleetKeys.Tier(_env, _tier),
            Detail = $"isolation audit: {result.Findings.Count} finding(s), {result.Critical} critical",
        }, CancellationToken.None);
        await ReportAsync(result);
        return result;
    }

    public async Task<IReadOnlyList<string>> ProbeRound(string principal)
    {
        var active = (await TenantsAsync()).Where(t => t.State == TenantLifecycle.Active).Select(t => t.Name).ToList();
        var pairs = ProbeSampling.Pairs(active, _options.ProbePairs, Random.Shared);
        var probed = new List<string>();
        foreach (var group in pairs.GroupBy(p => p.Prober, StringComparer.Ordinal))
        {
            try
            {
                var view = await GrainFactory.GetGrain<ITenantGrain>(TenantKeys.Of(_env, group.Key)).ProbeTargets(_tier, [.. group.Select(p => p.Target)], principal);
                probed.AddRange(group.Select(p => $"{p.Prober}->{p.Target}"));
            }
            catch (TenantRefusedException e)
            {
                // Suspended since the sample was drawn, or its placement changed: the next round draws again.
                logger.LogInformation("Probe round of {Environment}/{Tier}: {Tenant} skipped: {Message}", _env, _tier, group.Key, e.Message);
            }
        }
        state.State.LastProbeRound = DateTimeOffset.UtcNow;
        state.State.LastProbePairs = probed;
        await state.WriteStateAsync();
        return probed;
    }

    /// <summary>The tenants placed on this tier that are not erased, from their own grains (the index holds no placements).</summary>
    private async Task<List<TenantView>> TenantsAsync()
    {
        var index = await GrainFactory.GetGrain<ITenantRegistryGrain>(_env).ListIndex();
        var views = await Task.WhenAll(index.Where(e => e.Lifecycle is not (TenantLifecycle.Erased or TenantLifecycle.Erasing))
            .Select(e => GrainFactory.GetGrain<ITenantGrain>(TenantKeys.Of(_env, e.Record.Name)).Get()));
        return [.. views.OfType<TenantView>().Where(v => v.Placements.Any(p => p.Tier == _tier)).OrderBy(v => v.Name, StringComparer.Ordinal)];
    }

    private async Task ReportAsync(TierIsolationAudit result)
    {
        var reading = new MetricObservation(MonitoringMetrics.TenantIsolationAuditCritical,
            new Dictionary<string, string>(StringComparer.Ordinal) { ["environment"] = _env, ["tier"] = _tier }, result.Critical, result.At);
        try
        {
            await GrainFactory.GetGrain<IAlertGrain>(_env).Report([reading]);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            logger.LogWarning(ex, "Isolation audit of {Environment}/{Tier}: not reported to the alert engine", _env, _tier);
        }
    }

    private void Schedule(TimeSpan interval, Func<Task> run)
    {
        if (interval <= TimeSpan.Zero) return;
        this.RegisterGrainTimer(async (CancellationToken _) =>
        {
            try
            {
                await run();
            }
            catch (Exception e) when (e is TenantRefusedException or TimeoutException or OrleansException)
            {
                logger.LogWarning("Scheduled tenant isolation work on {Environment}/{Tier} failed: {Message}", _env, _tier, e.Message);
            }
        }, new GrainTimerCreationOptions
        {
            // A full interval after activation, not at once: a silo start (or a test fleet) does not begin with a round
            // of logins as every tenant.
            DueTime = interval,
            Period = interval,
            KeepAlive = true,
        });
    }
}
