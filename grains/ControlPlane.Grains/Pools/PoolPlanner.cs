namespace ControlPlane.Grains.Pools;

/// <summary>The grants of every active lease of one access kind, or why a newcomer cannot have one.</summary>
public sealed record PoolPlan(IReadOnlyDictionary<string, int> LeaseGrants, IReadOnlyDictionary<string, int> TenantGrants, string? Shortfall)
{
    public bool Feasible => Shortfall is null;
}

/// <summary>
/// Two levels of <see cref="PoolAllocator"/>: tenants share the capacity by their plans (demand = the sum of their
/// leases' requests), then each tenant's grant is shared by its leases (equal weights, at least one connection
/// each, since a pool of zero is useless). Pure; the pool grain calls it on every acquire, release, expiry,
/// plan change and capacity change.
/// </summary>
public static class PoolPlanner
{
    public static PoolPlan Plan(int capacity, IReadOnlyDictionary<string, TenantPlan> plans, IReadOnlyList<LeaseRecord> leases)
    {
        ArgumentNullException.ThrowIfNull(plans);
        ArgumentNullException.ThrowIfNull(leases);
        var byTenant = leases.Where(l => l.State == LeaseState.Active && plans.ContainsKey(l.Tenant))
            .GroupBy(l => l.Tenant, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        var tenantDemands = byTenant.Select(g =>
        {
            var plan = plans[g.Key];
            var requested = (int)Math.Min(int.MaxValue, g.Sum(l => (long)l.Requested));
            return new PoolDemand(g.Key, plan.Weight, plan.Min, plan.Max, requested);
        }).ToList();
        var tenants = PoolAllocator.Allocate(capacity, tenantDemands);
        string? shortfall = tenants.MinimumsMet
            ? null
            : $"the tenants' minimums need {tenants.MinimumsNeeded} connections; the capacity is {capacity}";

        var leaseGrants = new Dictionary<string, int>(StringComparer.Ordinal);
        var tenantGrants = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var group in byTenant)
        {
            var tenantGrant = tenants.GrantOf(group.Key);
            tenantGrants[group.Key] = tenantGrant;
            var demands = group.OrderBy(l => l.Id, StringComparer.Ordinal)
                .Select(l => new PoolDemand(l.Id, 1, 1, l.Requested, l.Requested)).ToList();
            var split = PoolAllocator.Allocate(tenantGrant, demands);
            if (!split.MinimumsMet && shortfall is null)
            {
                shortfall = $"tenant '{group.Key}' holds {demands.Count} lease(s) but its grant is {tenantGrant} (plan max {plans[group.Key].Max})";
            }
            foreach (var g in split.Grants) leaseGrants[g.Key] = g.Granted;
        }
        return new PoolPlan(leaseGrants, tenantGrants, shortfall);
    }
}

/// <summary>Lease lifetimes, pure: what expires when, and what a renewal does.</summary>
public static class LeaseExpiry
{
    /// <summary>Splits the leases into those still live at <paramref name="now"/> and those whose TTL ran out.</summary>
    public static (IReadOnlyList<LeaseRecord> Live, IReadOnlyList<LeaseRecord> Expired) Expire(IReadOnlyList<LeaseRecord> leases, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(leases);
        var live = new List<LeaseRecord>();
        var expired = new List<LeaseRecord>();
        foreach (var lease in leases)
        {
            if (lease.State != LeaseState.Active) continue;
            if (lease.ExpiresAt <= now) expired.Add(lease with { State = LeaseState.Expired, Granted = 0, Version = lease.Version + 1 });
            else live.Add(lease);
        }
        return (live, expired);
    }

    /// <summary>A renewal at <paramref name="now"/>: one more TTL from now. An ended lease cannot be renewed.</summary>
    public static LeaseRecord? Renew(LeaseRecord lease, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(lease);
        if (lease.State != LeaseState.Active || lease.ExpiresAt <= now) return null;
        return lease with { ExpiresAt = now + lease.Ttl };
    }

    /// <summary>
    /// After the pool grain (re)activates, the renewals the lost activation accepted in memory are unknown:
    /// every live lease gets one full TTL from now to renew, rather than being expired on a stale clock.
    /// </summary>
    public static IReadOnlyList<LeaseRecord> Grace(IReadOnlyList<LeaseRecord> leases, DateTimeOffset now) =>
        leases.Select(l => l.State == LeaseState.Active && l.ExpiresAt < now + l.Ttl ? l with { ExpiresAt = now + l.Ttl } : l).ToList();

    /// <summary>The TTL to use: the tier's default when none was asked; otherwise it must lie within the tier's bounds.</summary>
    public static TimeSpan TtlFor(int requestedSeconds, PoolSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (requestedSeconds == 0) return TimeSpan.FromSeconds(settings.DefaultTtlSeconds);
        if (requestedSeconds < PoolSettings.MinTtlSeconds || requestedSeconds > settings.MaxTtlSeconds)
            throw new ArgumentException($"ttl_seconds {requestedSeconds} is out of range; expected 0 (default {settings.DefaultTtlSeconds}) or {PoolSettings.MinTtlSeconds} to {settings.MaxTtlSeconds}.");
        return TimeSpan.FromSeconds(requestedSeconds);
    }
}
