using ControlPlane.Grains.Health;

namespace ControlPlane.Grains.Fleet;

/// <summary>One environment: which tiers it has. Key: environment name.</summary>
[Alias("controlplane.IFleetGrain")]
public interface IFleetGrain : IGrainWithStringKey
{
    /// <summary>Registers (or re-registers after a restart) the tiers of the environment and configures each.</summary>
    [Alias("Register")]
    Task Register(IReadOnlyList<TierSpec> tiers);

    /// <summary>Names of the environment's tiers, in registration order.</summary>
    [Alias("ListTiers"), ReadOnly]
    Task<IReadOnlyList<string>> ListTiers();
}

/// <summary>One tier of one environment: topology, term, health, version. Key: <c>env/tier</c>.</summary>
[Alias("controlplane.ITierGrain")]
public interface ITierGrain : IGrainWithStringKey
{
    /// <summary>Sets the replicas of the tier; keeps term and primary once the tier has them.</summary>
    [Alias("Configure")]
    Task Configure(TierSpec spec);

    /// <summary>The tier at its current version, with probe timestamps refreshed.</summary>
    [Alias("GetSnapshot"), AlwaysInterleave]
    Task<TierSnapshot?> GetSnapshot();

    /// <summary>A replica grain's latest observation of its instance. One-way: a replica never waits on its tier,
    /// so a tier busy commanding its replicas cannot deadlock with a replica reporting to it.</summary>
    [Alias("ReportProbe"), OneWay]
    Task ReportProbe(ReplicaHealth health);
}

/// <summary>One PostgreSQL instance of a tier: probes it on a timer. Key: <c>env/tier/replica</c>.</summary>
[Alias("controlplane.IReplicaGrain")]
public interface IReplicaGrain : IGrainWithStringKey
{
    /// <summary>Sets where the instance is; starts probing.</summary>
    [Alias("Configure")]
    Task Configure(ReplicaSpec spec);

    /// <summary>Makes sure the grain is active and probing (a no-op when it is).</summary>
    [Alias("Ensure"), AlwaysInterleave]
    Task Ensure();

    /// <summary>The latest observation, or null before the first probe.</summary>
    [Alias("GetHealth"), AlwaysInterleave]
    Task<ReplicaHealth?> GetHealth();
}
