namespace ControlPlane.Grains.Pools;

/// <summary>The pool of one tier: leases, grants, samples, leak policy and decision log. Key: <c>env/tier</c>.
/// Separate from the tier grain so pool traffic (renewals, samples) never queues behind a failover.</summary>
[Alias("controlplane.IPoolGrain")]
public interface IPoolGrain : IGrainWithStringKey
{
    [Alias("Acquire")]
    Task<LeaseView> Acquire(string tenant, string service, int requested, LeaseAccess access, int ttlSeconds, string principal);

    /// <summary>One more TTL; <see cref="KeyNotFoundException"/> when the lease ended.</summary>
    [Alias("Renew")]
    Task<LeaseView> Renew(string leaseId);

    [Alias("Release")]
    Task<LeaseView> Release(string leaseId, string principal);

    [Alias("GetLease"), AlwaysInterleave]
    Task<LeaseView?> GetLease(string leaseId);

    [Alias("ListLeases"), AlwaysInterleave]
    Task<IReadOnlyList<LeaseView>> ListLeases();

    [Alias("GetBudget"), AlwaysInterleave]
    Task<PoolBudget> GetBudget();

    [Alias("ReportStats")]
    Task<LeaseRecord> ReportStats(string leaseId, PoolStatsReport report);

    [Alias("GetSettings"), AlwaysInterleave]
    Task<PoolSettings> GetSettings();

    [Alias("SetSettings")]
    Task SetSettings(PoolSettings settings, string principal);

    [Alias("ListDecisions"), AlwaysInterleave]
    Task<IReadOnlyList<PoolDecision>> ListDecisions(int limit);

    /// <summary>A tenant grain tells the pools of a tier about a plan change (null: the tenant has none here).</summary>
    [Alias("PlanChanged")]
    Task PlanChanged(string tenant, TenantPlan? plan);

    /// <summary>The tenant was suspended or is being erased: its plan leaves the pool and its live leases end at once.
    /// Answers the ids of the leases it ended.</summary>
    [Alias("RevokeTenant")]
    Task<IReadOnlyList<string>> RevokeTenant(string tenant, string reason, string principal);

    /// <summary>A replica's latest sample. One-way: a replica never waits on the pool.</summary>
    [Alias("ReportSample"), OneWay]
    Task ReportSample(ReplicaPoolSample sample);
}

/// <summary>The index of an environment's tenants (name, plans, lifecycle), written by each <c>TenantGrain</c>. Key: environment name.</summary>
[Alias("controlplane.ITenantRegistryGrain")]
public interface ITenantRegistryGrain : IGrainWithStringKey
{
    /// <summary>False when the environment holds <see cref="TenantRegistryGrain.MaxTenants"/> other tenants already.</summary>
    [Alias("HasRoomFor"), AlwaysInterleave]
    Task<bool> HasRoomFor(string tenant);

    /// <summary>Adds or updates a tenant's entry; only its tenant grain calls this.</summary>
    [Alias("Index")]
    Task Index(TenantRecord record, Tenants.TenantLifecycle lifecycle);

    [Alias("Get"), AlwaysInterleave]
    Task<TenantRecord?> Get(string tenant);

    /// <summary>The tenant's lifecycle as last indexed (null: not in the index).</summary>
    [Alias("GetLifecycle"), AlwaysInterleave]
    Task<Tenants.TenantLifecycle?> GetLifecycle(string tenant);

    [Alias("List"), AlwaysInterleave]
    Task<IReadOnlyList<TenantRecord>> List();

    [Alias("ListIndex"), AlwaysInterleave]
    Task<IReadOnlyList<TenantIndexEntry>> ListIndex();

    /// <summary>Every plan on <paramref name="tier"/> of a tenant that may hold leases, by tenant. Interleaves: a pool
    /// activating while a tenant grain tells it about a change must not deadlock.</summary>
    [Alias("PlansFor"), AlwaysInterleave]
    Task<IReadOnlyDictionary<string, TenantPlan>> PlansFor(string tier);
}

/// <summary>One tenant in the index.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TenantIndexEntry")]
public sealed record TenantIndexEntry(
    [property: Id(0)] TenantRecord Record,
    [property: Id(1)] Tenants.TenantLifecycle Lifecycle);

/// <summary>The pool-facing side of a replica grain: commands that flow down from the pool of its tier.</summary>
[Alias("controlplane.IReplicaPoolSampler")]
public interface IReplicaPoolSampler : IGrainWithStringKey
{
    /// <summary>Terminates these sessions if they are still idle in transaction under the lease's tag; answers how many went.</summary>
    [Alias("TerminateIdleInTransaction")]
    Task<int> TerminateIdleInTransaction(IReadOnlyList<int> pids, string leaseId);
}

/// <summary>The pool cannot grant this without over-committing, or the tenant has no plan on the tier.</summary>
[GenerateSerializer, Alias("controlplane.PoolRefusedException")]
public sealed class PoolRefusedException : Exception
{
    public PoolRefusedException()
    {
    }

    public PoolRefusedException(string message) : base(message)
    {
    }

    public PoolRefusedException(string message, Exception inner) : base(message, inner)
    {
    }
}

[GenerateSerializer, Alias("controlplane.TenantExistsException")]
public sealed class TenantExistsException : Exception
{
    public TenantExistsException()
    {
    }

    public TenantExistsException(string message) : base(message)
    {
    }

    public TenantExistsException(string message, Exception inner) : base(message, inner)
    {
    }
}
