namespace ControlPlane.Grains.Tenants;

public sealed partial class TenantGrain
{
    /// <summary>
    /// Keeps a tier's audit findings that concern this tenant. Audits repeat hourly with mostly the same findings, so the
    /// state is written (and the history told) only when the findings changed; the time shown is the last audit's.
    /// </summary>
    public async Task RecordAudit(TenantTierAudit audit)
    {
        ArgumentNullException.ThrowIfNull(audit);
        if (!S.Exists) return;
        var previous = S.Audits.FirstOrDefault(a => a.Tier == audit.Tier);
        S.Audits = [.. S.Audits.Where(a => a.Tier != audit.Tier).Append(audit).OrderBy(a => a.Tier, StringComparer.Ordinal)];
        if (previous is not null && previous.Findings.SequenceEqual(audit.Findings)) return;
        var critical = audit.Findings.Count(f => f.Severity == IsolationSeverity.Critical);
        Remember($"isolation audit of {audit.Tier}: {audit.Findings.Count} finding(s), {critical} critical", TenantAuditGrain.Scheduler);
        await SaveAsync();
    }
}
