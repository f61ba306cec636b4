using ControlPlane.Grains.Monitoring;
using ControlPlane.Grains.Security;
using ControlPlane.Postgres.Tenants;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Tenants;

public sealed partial class TenantGrain
{
    /// <summary>At most this many other tenants per tier are tried in one probe (the first ones by name).</summary>
    private const int ProbeTargetsPerTier = 10;

    /// <summary>On demand: on every tier the tenant is placed on, against the first other tenants there by name.</summary>
    public async Task<TenantView> Probe(string principal)
    {
        RequireProbeable();
        var others = await OthersAsync(null);
        var plan = S.Placements.Select(placement => (placement, others
            .SelectMany(o => o.Placements.Where(p => p.Tier == placement.Tier).Select(p => new ProbeTarget(o.Name, p.Kind == PlacementKind.Shared)))
            .OrderBy(t => t.Tenant, StringComparer.Ordinal).Take(ProbeTargetsPerTier).ToList())).ToList();
        return await ProbeAsync(plan, principal);
    }

    public async Task<TenantView> ProbeTargets(string tier, IReadOnlyList<string> targets, string principal)
    {
        ArgumentNullException.ThrowIfNull(targets);
        RequireProbeable();
        var placement = S.Placements.FirstOrDefault(p => p.Tier == tier)
            ?? throw new TenantRefusedException($"tenant '{_name}' is not placed on tier '{tier}'; nothing to probe there.");
        var others = await OthersAsync(targets.ToHashSet(StringComparer.Ordinal));
        var list = others.SelectMany(o => o.Placements.Where(p => p.Tier == tier).Select(p => new ProbeTarget(o.Name, p.Kind == PlacementKind.Shared)))
            .OrderBy(t => t.Tenant, StringComparer.Ordinal).ToList();
        return await ProbeAsync([(placement, list)], principal);
    }

    private void RequireProbeable()
    {
        RequireExists();
        if (S.Lifecycle != TenantLifecycle.Active)
            throw new TenantRefusedException($"tenant '{_name}' is {TenantLifecyclePolicy.Word(S.Lifecycle)}; only an active tenant's role can log in to be probed.");
    }

    /// <summary>The other tenants that are neither erased nor being erased (only those named, when <paramref name="only"/> is given).</summary>
    private async Task<List<TenantView>> OthersAsync(HashSet<string>? only)
    {
        var others = new List<TenantView>();
        foreach (var entry in await Registry.ListIndex())
        {
            if (entry.Record.Name == _name || entry.Lifecycle is TenantLifecycle.Erased or TenantLifecycle.Erasing) continue;
            if (only is not null && !only.Contains(entry.Record.Name)) continue;
            if (await GrainFactory.GetGrain<ITenantGrain>(TenantKeys.Of(_env, entry.Record.Name)).Get() is { } view) others.Add(view);
        }
        return others;
    }

    /// <summary>
    /// Connects as this tenant's application would, on each planned tier, and tries to reach the targets placed there.
    /// Any success is a leak: logged as critical, audited as failed, and kept on the tenant. The result replaces the
    /// previous probe's attempts on the tiers probed now; other tiers' attempts stay.
    /// </summary>
    private async Task<TenantView> ProbeAsync(IReadOnlyList<(TenantPlacement Placement, List<ProbeTarget> Targets)> plan, string principal)
    {
        var findings = new List<TenantProbeFinding>();
        var skipped = new List<string>();
        foreach (var (placement, targets) in plan)
        {
            if (targets.Count == 0)
            {
                skipped.Add($"{placement.Tier}: no other tenant placed there");
                continue;
            }
            try
            {
                using var cts = new CancellationTokenSource(StepTimeout);
                var attempts = await TenantProbe.RunAsync(await PrimaryAsync(placement.Tier), _name, placement.PasswordFile, targets, cts.Token);
                findings.AddRange(attempts.Select(a => new TenantProbeFinding(placement.Tier, a.Target, a.Attempt, a.Leaked, a.Detail)));
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or IOException or OperationCanceledException)
            {
                skipped.Add($"{placement.Tier}: could not probe: {e.Message}");
            }
        }
        var tiers = plan.Select(p => p.Placement.Tier).ToHashSet(StringComparer.Ordinal);
        var kept = S.Probe is { } previous && plan.Count < S.Placements.Count
            ? (previous.Findings.Where(f => !tiers.Contains(f.Tier)).ToList(), previous.Skipped.Where(s => !tiers.Any(t => s.StartsWith(t + ":", StringComparison.Ordinal))).ToList())
            : ([], []);
        S.Probe = new TenantProbeResult(DateTimeOffset.UtcNow, [.. kept.Item1, .. findings], [.. kept.Item2, .. skipped]);
        Remember($"cross-tenant probe{(plan.Count < S.Placements.Count ? " of " + string.Join(", ", tiers.Order(StringComparer.Ordinal)) : "")}: {findings.Count} attempt(s), {findings.Count(f => f.Leaked)} leak(s){(skipped.Count > 0 ? $", {skipped.Count} tier(s) skipped" : "")}", principal);
        await SaveAsync();
        foreach (var leak in findings.Where(f => f.Leaked))
            logger.LogCritical("Tenant isolation LEAK: {Environment}/{Tenant} on {Tier} reached tenant {Target}: {Attempt}: {Detail}", _env, _name, leak.Tier, leak.Target, leak.Attempt, leak.Detail);
        Audit("probe", findings.Any(f => f.Leaked) ? AuditOutcome.Failed : AuditOutcome.Ok,
            $"cross-tenant probe as {_name}: {findings.Count} attempt(s), {findings.Count(f => f.Leaked)} leak(s)", "", principal);
        await ReportIsolationAsync(tiers.Where(t => !skipped.Any(s => s.StartsWith(t + ":", StringComparison.Ordinal))), findings);
        return View();
    }

    /// <summary>
    /// The probe's leaks per probed tier to the alert engine (TenantIsolationLeak): a leak fires at once, and the next
    /// clean probe of that tier resolves it. A tier not probed this time leaves its alert as it was.
    /// </summary>
    private async Task ReportIsolationAsync(IEnumerable<string> probedTiers, IReadOnlyList<TenantProbeFinding> findings)
    {
        var now = DateTimeOffset.UtcNow;
        var readings = probedTiers.Distinct(StringComparer.Ordinal).Select(tier => new MetricObservation(MonitoringMetrics.TenantIsolationLeaks,
            new Dictionary<string, string>(StringComparer.Ordinal) { ["environment"] = _env, ["tier"] = tier, ["tenant"] = _name },
            findings.Count(f => f.Tier == tier && f.Leaked), now)).ToList();
        if (readings.Count == 0) return;
        try
        {
            await GrainFactory.GetGrain<IAlertGrain>(_env).Report(readings);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            logger.LogWarning(ex, "Tenant {Environment}/{Tenant}: probe result not reported to the alert engine", _env, _name);
        }
    }
}
