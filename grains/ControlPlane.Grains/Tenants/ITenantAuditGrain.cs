namespace ControlPlane.Grains.Tenants;

/// <summary>
/// The isolation audit and the scheduled cross-tenant probe of one tier (key <c>env/tier</c>). On timers
/// (<see cref="TenantAuditOptions"/>) and on demand; each audit is stored here and, per tenant, on the tenant's grain.
/// </summary>
[Alias("controlplane.ITenantAuditGrain")]
public interface ITenantAuditGrain : IGrainWithStringKey
{
    /// <summary>Keeps the grain (and its timers) active.</summary>
    [Alias("Ensure")]
    Task Ensure();

    /// <summary>Reads the tier's catalog, runs every rule, stores the result (here and on each tenant) and reports the critical findings to the alert engine.</summary>
    [Alias("Audit")]
    Task<TierIsolationAudit> Audit(string principal);

    /// <summary>The last audit; null before the first.</summary>
    [Alias("GetLast"), AlwaysInterleave]
    Task<TierIsolationAudit?> GetLast();

    /// <summary>One round of the probe over a random sample of tenant pairs of the tier; answers the pairs probed.</summary>
    [Alias("ProbeRound")]
    Task<IReadOnlyList<string>> ProbeRound(string principal);
}

[GenerateSerializer, Alias("controlplane.TenantAuditState")]
public sealed class TenantAuditState
{
    [Id(0)] public TierIsolationAudit? Last { get; set; }
    [Id(1)] public DateTimeOffset? LastProbeRound { get; set; }
    [Id(2)] public List<string> LastProbePairs { get; set; } = [];
}
