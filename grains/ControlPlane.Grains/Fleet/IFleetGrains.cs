using ControlPlane.Grains.Failover;
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

    /// <summary>The tier's pool alerts (overruns, leak suspects) as one line, empty when none; published on the watch stream.</summary>
    [Alias("SetPoolAlert"), OneWay]
    Task SetPoolAlert(string alert);

    /// <summary>The tier's backup alerts (RPO above target, failed backup or drill, unusable repository) as one line,
    /// empty when none; published on the watch stream.</summary>
    [Alias("SetBackupAlert"), OneWay]
    Task SetBackupAlert(string alert);

    /// <summary>Adds a running standby (a restored one) to the tier and moves it onto its own slot on the primary.</summary>
    [Alias("AdoptReplica")]
    Task<TierSnapshot?> AdoptReplica(ReplicaSpec replica, string principal);

    /// <summary>Removes an adopted replica from the tier (not the primary); its grain stops probing.</summary>
    [Alias("ReleaseReplica")]
    Task ReleaseReplica(string name, string principal);

    /// <summary>One silo's probes of the tier's replicas (a vantage point; docs/hosts.md, Partitions).</summary>
    [Alias("ReportVantage"), OneWay]
    Task ReportVantage(IReadOnlyList<ControlPlane.Grains.Failover.VantageReport> reports);

    /// <summary>Where the tier's replicas are and how to reach them (null before registration).</summary>
    [Alias("GetSpec"), AlwaysInterleave]
    Task<TierSpec?> GetSpec();

    /// <summary>Makes sure the tier is active and managing its replicas (a no-op when it is).</summary>
    [Alias("Ensure"), AlwaysInterleave]
    Task Ensure();

    /// <summary>Starts a planned switchover to <paramref name="target"/> (or the best standby).</summary>
    [Alias("StartSwitchover")]
    Task<OperationRecord> StartSwitchover(string? target, string principal);

    /// <summary>Starts a manual failover to <paramref name="target"/> (or the best standby).</summary>
    [Alias("StartFailover")]
    Task<OperationRecord> StartFailover(string? target, bool allowDataLoss, string principal);

    /// <summary>Stops automatic decisions (probes go on).</summary>
    [Alias("Pause")]
    Task<OperationRecord> Pause(string principal, string reason);

    /// <summary>Restarts automatic decisions.</summary>
    [Alias("Resume")]
    Task<OperationRecord> Resume(string principal);

    /// <summary>Carries out a pending operation. One-way to itself, so the command that started it answers at once.</summary>
    [Alias("RunOperation"), OneWay]
    Task RunOperation(string operationId);

    [Alias("GetOperation"), AlwaysInterleave]
    Task<OperationRecord?> GetOperation(string operationId);

    /// <summary>The decision log, newest last.</summary>
    [Alias("ListDecisions"), AlwaysInterleave]
    Task<IReadOnlyList<DecisionRecord>> ListDecisions(int limit);

    [Alias("GetSettings"), AlwaysInterleave]
    Task<FailoverSettings> GetSettings();

    /// <summary>Replaces the tier's HA settings (validated); recorded in the decision log.</summary>
    [Alias("SetSettings")]
    Task SetSettings(FailoverSettings settings, string principal);

    /// <summary>A replica grain's latest observation of its instance. One-way: a replica never waits on its tier,
    /// so a tier busy commanding its replicas cannot deadlock with a replica reporting to it.</summary>
    [Alias("ReportProbe"), OneWay]
    Task ReportProbe(ReplicaHealth health);
}

/// <summary>One PostgreSQL instance of a tier: probes it on a timer. Key: <c>env/tier/replica</c>.</summary>
[Alias("controlplane.IReplicaGrain")]
public interface IReplicaGrain : IGrainWithStringKey
{
    /// <summary>Sets where the instance is and how often to probe it; starts probing.</summary>
    [Alias("Configure")]
    Task Configure(ReplicaSpec spec, ProbeSchedule schedule);

    /// <summary>Makes sure the grain is active and probing (a no-op when it is).</summary>
    [Alias("Ensure"), AlwaysInterleave]
    Task Ensure();

    /// <summary>The latest observation, or null before the first probe.</summary>
    [Alias("GetHealth"), AlwaysInterleave]
    Task<ReplicaHealth?> GetHealth();

    /// <summary>Probes now (not waiting for the timer), reports to the tier, and answers the observation.</summary>
    [Alias("ProbeNow")]
    Task<ReplicaHealth?> ProbeNow();

    /// <summary>Makes the instance unable to take writes, even when it hangs (local driver: kills it).</summary>
    [Alias("Fence")]
    Task Fence(long term);

    /// <summary>Promotes the standby and records the term in the instance (controlplane.term_history); true when it left recovery.</summary>
    [Alias("Promote")]
    Task<bool> Promote(long term);

    /// <summary>Records the tier's term in this writable instance if it carries a lower one; answers the term it carries.</summary>
    [Alias("RecordTerm")]
    Task<TierTerm> RecordTerm(long term);

    /// <summary>
    /// Null when this activation acts on the instance's host; otherwise why <paramref name="operation"/> cannot be done
    /// here (it needs the silo of the replica's host, named in the answer). Asked before a decision that needs the host.
    /// </summary>
    [Alias("HostRefusal")]
    Task<string?> HostRefusal(string operation);

    /// <summary>Stops the instance cleanly (its standbys receive everything first); answers its final checkpoint LSN.</summary>
    [Alias("StopClean")]
    Task<ulong> StopClean(long term);

    /// <summary>Turns this (old primary) into a streaming standby of <paramref name="newPrimary"/>: restart, rewind, or a
    /// fresh base backup (always, with <paramref name="rebuild"/>). One-way: it can take minutes, and the tier learns
    /// the outcome from probes.</summary>
    [Alias("Rejoin"), OneWay]
    Task Rejoin(ReplicaSpec newPrimary, long term, bool rebuild);

    /// <summary>Points this running standby at <paramref name="newPrimary"/>.</summary>
    [Alias("Repoint")]
    Task Repoint(ReplicaSpec newPrimary, long term);

    /// <summary>Stops probing and lets the activation go (the replica left its tier).</summary>
    [Alias("Retire")]
    Task Retire();

    /// <summary>Sets synchronous_standby_names on this primary.</summary>
    [Alias("SetSynchronousStandbys")]
    Task SetSynchronousStandbys(string value, long term);

    /// <summary>Reports of the divergent WAL saved before this instance was rewound or rebuilt, newest last.</summary>
    [Alias("GetDivergences"), AlwaysInterleave]
    Task<IReadOnlyList<ControlPlane.Grains.Failover.DivergenceRecord>> GetDivergences();
}
