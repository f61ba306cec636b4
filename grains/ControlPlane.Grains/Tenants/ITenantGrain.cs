using ControlPlane.Grains.Pools;

namespace ControlPlane.Grains.Tenants;

/// <summary>
/// One tenant: plan, placement per tier, lifecycle, history. Key: <c>env/tenant</c> (<see cref="TenantKeys"/>).
/// Lifecycle commands answer when their steps are done; when a step fails the operation stays in the grain's state and
/// is retried (every minute by a reminder, or by the same command again).
/// </summary>
[Alias("controlplane.ITenantGrain")]
public interface ITenantGrain : IGrainWithStringKey
{
    /// <summary>Registers the tenant; <see cref="TenantExistsException"/> when it exists and is not erased.</summary>
    [Alias("Register")]
    Task<TenantView> Register(IReadOnlyList<TenantPlan> plans, IReadOnlyList<TenantPlacement> placements, string principal);

    /// <summary>Sets (or replaces) the plan on one tier; an active tenant's pool rebalances.</summary>
    [Alias("UpdatePlan")]
    Task<TenantView> UpdatePlan(TenantPlan plan, string principal);

    [Alias("Suspend")]
    Task<TenantView> Suspend(string reason, string principal);

    [Alias("Resume")]
    Task<TenantView> Resume(string principal);

    [Alias("Erase")]
    Task<TenantView> Erase(string principal);

    /// <summary>Runs the cross-tenant probe as this tenant against the other tenants of each of its tiers; stores and answers it.</summary>
    [Alias("Probe")]
    Task<TenantView> Probe(string principal);

    /// <summary>The scheduled probe: as this tenant, on one tier, against the named tenants only; the tier's findings replace its previous ones.</summary>
    [Alias("ProbeTargets")]
    Task<TenantView> ProbeTargets(string tier, IReadOnlyList<string> targets, string principal);

    /// <summary>Keeps the findings of a tier's isolation audit that concern this tenant (persisted when they changed).</summary>
    [Alias("RecordAudit")]
    Task RecordAudit(TenantTierAudit audit);

    /// <summary>Replaces the tenant's values in <paramref name="columns"/> (declared personal data) with pseudonyms on each of its tiers.</summary>
    [Alias("Anonymise")]
    Task<TenantView> Anonymise(IReadOnlyList<PiiColumn> columns, string principal);

    /// <summary>The tenant, or null when it was never registered.</summary>
    [Alias("Get"), AlwaysInterleave]
    Task<TenantView?> Get();
}

/// <summary>Tenant grain keys: <c>env/tenant</c>.</summary>
public static class TenantKeys
{
    public static string Of(string environment, string tenant) => $"{environment}/{tenant}";
}

/// <summary>The command is not legal in the tenant's state, or a step of its operation failed (and will be retried).</summary>
[GenerateSerializer, Alias("controlplane.TenantRefusedException")]
public sealed class TenantRefusedException : Exception
{
    public TenantRefusedException()
    {
    }

    public TenantRefusedException(string message) : base(message)
    {
    }

    public TenantRefusedException(string message, Exception inner) : base(message, inner)
    {
    }
}
