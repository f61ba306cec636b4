namespace ControlPlane.Grains.Pools;

public sealed partial class PoolGrain
{
    /// <summary>
    /// A suspended or erased tenant leaves the pool: its plan goes (so a new lease is refused) and its live leases end
    /// at once, released, with one decision naming them. Holders see the end on WatchLease.
    /// </summary>
    public async Task<IReadOnlyList<string>> RevokeTenant(string tenant, string reason, string principal)
    {
        if (ControlPlaneSessions.Reserved(tenant) is null)
        {
            _plans.Remove(tenant);
            _withBuiltIn = null;
        }
        var revoked = state.State.Leases.Where(l => l.Tenant == tenant)
            .Select(l => l with { State = LeaseState.Released, Granted = 0, Version = l.Version + 1 })
            .ToList();
        if (revoked.Count == 0)
        {
            await RebalanceAsync($"plan of {tenant} withdrawn: {reason}", principal);
            return [];
        }
        await EndAsync(revoked, $"{revoked.Count} lease(s) of tenant {tenant} revoked: {reason}", principal);
        return revoked.Select(l => l.Id).ToList();
    }
}
