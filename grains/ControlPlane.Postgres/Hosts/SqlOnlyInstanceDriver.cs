using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;

namespace ControlPlane.Postgres.Hosts;

/// <summary>
/// An instance reached over SQL only: a managed server, or one whose host runs no silo of this cluster right now.
/// Promotion and the soft fence are SQL; everything that needs the host's processes or files answers
/// <see cref="NeedsHostSilo"/> naming the operation and the host, and never touches anything.
/// </summary>
/// <param name="host">The host the instance runs on (its host name, or its address when none is declared).</param>
public sealed class SqlOnlyInstanceDriver(string tier, string name, string host) : IInstanceDriver
{
    public string Tier => tier;

    public string Name => name;

    public string Host => host;

    public bool OnHost => false;

    public Task<bool> PromoteAsync(ReplicaEndpoint endpoint, TimeSpan wait, CancellationToken ct) =>
        SqlFailoverOps.PromoteAsync(endpoint, wait, ct);

    public async Task<FenceMethod> FenceAsync(ReplicaEndpoint endpoint, CancellationToken ct)
    {
        await SqlFailoverOps.FenceWritesAsync(endpoint, ct).ConfigureAwait(false);
        return FenceMethod.ReadOnly;
    }

    public Task<HostResult<Lsn>> StopCleanAsync(CancellationToken ct) =>
        Task.FromResult(HostResult<Lsn>.Refused(Needs("stopping it cleanly")));

    public Task<HostResult<RejoinReport>> RejoinAsync(ReplicaEndpoint newPrimary, string slotName, bool rebuild,
        Func<DivergentWal, CancellationToken, Task>? saved, CancellationToken ct) =>
        Task.FromResult(HostResult<RejoinReport>.Refused(Needs(rebuild ? "rebuilding it as a standby" : "rejoining it as a standby")));

    public Task<NeedsHostSilo?> RepointAsync(ReplicaEndpoint newPrimary, string slotName, CancellationToken ct) =>
        Task.FromResult<NeedsHostSilo?>(Needs($"pointing it at {newPrimary.Name}"));

    public Task<NeedsHostSilo?> StartAsync(CancellationToken ct) => Task.FromResult<NeedsHostSilo?>(Needs("starting it"));

    public Task<NeedsHostSilo?> StopAsync(StopMode mode, CancellationToken ct) => Task.FromResult<NeedsHostSilo?>(Needs("stopping it"));

    public bool? PostmasterAlive() => null;

    public int? PostmasterPid() => null;

    public long? AvailableBytes() => null;

    private NeedsHostSilo Needs(string operation) => new(operation, tier, name, host);
}
