using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;

namespace ControlPlane.Postgres.Hosts;

/// <summary>
/// What the control plane can do to one instance. Two drivers answer it: the host-local one
/// (<see cref="LocalInstanceDriver"/>, on the silo of the instance's host: processes, files, pg_ctl, pg_rewind) and
/// the SQL-only one (<see cref="SqlOnlyInstanceDriver"/>, from any silo: a superuser session is all it has).
/// Observing an instance is SQL for both (<see cref="Health.ReplicaProbe"/>); what needs the host answers
/// <see cref="NeedsHostSilo"/> over SQL instead of pretending, so the caller can say precisely what is missing.
/// </summary>
public interface IInstanceDriver
{
    string Tier { get; }

    string Name { get; }

    /// <summary>True when this driver acts on the instance's host (processes and files are reachable).</summary>
    bool OnHost { get; }

    /// <summary>Promotes with <c>pg_promote()</c> and waits up to <paramref name="wait"/>; true once it takes writes.</summary>
    Task<bool> PromoteAsync(ReplicaEndpoint endpoint, TimeSpan wait, CancellationToken ct);

    /// <summary>
    /// Stops the instance from accepting writes. On the host: every process SIGKILLed (works on a hung server).
    /// Over SQL: <c>default_transaction_read_only</c> through ALTER SYSTEM, a reload and every client session
    /// terminated (only when it answers).
    /// </summary>
    Task<FenceMethod> FenceAsync(ReplicaEndpoint endpoint, CancellationToken ct);

    /// <summary>Clean shutdown for a switchover; its final checkpoint location.</summary>
    Task<HostResult<Lsn>> StopCleanAsync(CancellationToken ct);

    /// <summary>
    /// Demotes or restarts the instance as a standby of <paramref name="newPrimary"/> (rewound, or rebuilt when asked).
    /// WAL it holds past the new primary's fork is saved first and handed to <paramref name="saved"/> before the rewind.
    /// </summary>
    Task<HostResult<RejoinReport>> RejoinAsync(ReplicaEndpoint newPrimary, string slotName, bool rebuild,
        Func<DivergentWal, CancellationToken, Task>? saved, CancellationToken ct);

    /// <summary>Points a running standby at <paramref name="newPrimary"/>.</summary>
    Task<NeedsHostSilo?> RepointAsync(ReplicaEndpoint newPrimary, string slotName, CancellationToken ct);

    Task<NeedsHostSilo?> StartAsync(CancellationToken ct);

    Task<NeedsHostSilo?> StopAsync(StopMode mode, CancellationToken ct);

    /// <summary>Whether the postmaster runs, from the host's process table; null when the driver cannot see it.</summary>
    bool? PostmasterAlive();

    /// <summary>The postmaster's pid from postmaster.pid; null when none, or when the driver cannot see the host.</summary>
    int? PostmasterPid();

    /// <summary>Bytes left to PostgreSQL on the filesystems of its data directory and pg_wal (<see cref="DiskSpace"/>); null when the driver cannot see the host.</summary>
    long? AvailableBytes();
}

/// <summary>How an instance was fenced.</summary>
public enum FenceMethod
{
    /// <summary>Every process of the instance killed on its host.</summary>
    Killed,
    /// <summary>Made read-only over SQL, its client sessions terminated.</summary>
    ReadOnly,
}

/// <summary>
/// An operation that only the silo of the instance's host can carry out (it needs the host's processes or files).
/// </summary>
/// <param name="Operation">What was asked, as an operator would say it ("rejoin", "stop cleanly").</param>
/// <param name="Host">The host the instance runs on, whose silo is missing from the cluster.</param>
public sealed record NeedsHostSilo(string Operation, string Tier, string Replica, string Host)
{
    public string Message =>
        $"{Operation} of replica {Tier}/{Replica} needs the silo of host '{Host}', which is not in the cluster; " +
        "start the silo on that host (docs/hosts.md) or do it there by hand";
}

/// <summary>A value, or the host-needing operation that could not be done here.</summary>
public readonly record struct HostResult<T>(T? Value, NeedsHostSilo? NeedsHost)
{
    public static HostResult<T> Done(T value) => new(value, null);

    public static HostResult<T> Refused(NeedsHostSilo needs) => new(default, needs);
}
