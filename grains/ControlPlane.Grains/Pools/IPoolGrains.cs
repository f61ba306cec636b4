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

    /// <summary>The tenant registry tells the pools of a tier about a plan change (null: the tenant has none here).</summary>
    [Alias("PlanChanged")]
    Task PlanChanged(string tenant, TenantPlan? plan);

    /// <summary>A replica's latest sample. One-way: a replica never waits on the pool.</summary>
    [Alias("ReportSample"), OneWay]
    Task ReportSample(ReplicaPoolSample sample);
}

/// <summary>The tenants of an environment with their plans. Key: environment name.</summary>
[Alias("controlplane.ITenantRegistryGrain")]
public interface ITenantRegistryGrain : IGrainWithStringKey
{
    /// <summary>Registers a tenant; <see cref="TenantExistsException"/> when it already is.</summary>
    [Alias("Register")]
    Task<TenantRecord> Register(string tenant, IReadOnlyList<TenantPlan> plans);

    [Alias("UpdatePlan")]
    Task<TenantRecord> UpdatePlan(string tenant, TenantPlan plan);

    [Alias("Get"), AlwaysInterleave]
    Task<TenantRecord?> Get(string tenant);

    [Alias("List"), AlwaysInterleave]
    Task<IReadOnlyList<TenantRecord>> List();

    /// <summary>Every plan on <paramref name="tier"/>, by tenant. Interleaves: a pool activating while the
    /// registry tells it about a change must not deadlock.</summary>
    [Alias("PlansFor"), AlwaysInterleave]
    Task<IReadOnlyDictionary<string, TenantPlan>> PlansFor(string tier);
}

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
