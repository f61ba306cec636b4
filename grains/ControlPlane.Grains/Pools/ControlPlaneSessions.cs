namespace ControlPlane.Grains.Pools;

/// <summary>
/// The control plane's own sessions on a tier (schema changes) draw on the tier's pool like any service: they hold
/// leases of this reserved pool tenant, whose plan is built in. Its weight is the smallest a tenant can have, so a
/// rollout never takes the share of a tenant that asks for its own; its minimum of one means a change always gets a
/// session when the tenants' minimums leave one. No tenant may be registered under this name.
/// </summary>
public static class ControlPlaneSessions
{
    public const string Tenant = "controlplane";

    public static TenantPlan PlanFor(string tier) => new(tier, Weight: 1, Min: 1, Max: TenantPlan.MaxConnections);

    /// <summary>Every tenant's plan plus the built-in one (which wins over a tenant of the same name, had one slipped in).</summary>
    public static IReadOnlyDictionary<string, TenantPlan> WithBuiltIn(IReadOnlyDictionary<string, TenantPlan> plans, string tier)
    {
        ArgumentNullException.ThrowIfNull(plans);
        return new Dictionary<string, TenantPlan>(plans, StringComparer.Ordinal) { [Tenant] = PlanFor(tier) };
    }

    /// <summary>Why <paramref name="tenant"/> cannot be registered or given a plan; null when it can.</summary>
    public static string? Reserved(string tenant) =>
        tenant == Tenant
            ? $"tenant '{Tenant}' is reserved: the control plane's own sessions (schema changes) hold the tier's pool leases under that name; choose another name."
            : null;
}
