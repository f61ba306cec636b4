using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Hosts;

namespace ControlPlane.Postgres.Instances;

/// <summary>
/// The host-local driver seen through the seam: every operation is possible here, so none answers
/// <see cref="NeedsHostSilo"/>. Explicit, so the driver's own API (used by the fleet bootstrap and tests) stays as it is.
/// </summary>
public sealed partial class LocalInstanceDriver : IInstanceDriver
{
    bool IInstanceDriver.OnHost => true;

    // pg_promote() rather than pg_ctl promote: the same bounded wait, and the same path as over SQL.
    Task<bool> IInstanceDriver.PromoteAsync(ReplicaEndpoint endpoint, TimeSpan wait, CancellationToken ct) =>
        SqlFailoverOps.PromoteAsync(endpoint, wait, ct);

    async Task<FenceMethod> IInstanceDriver.FenceAsync(ReplicaEndpoint endpoint, CancellationToken ct)
    {
        await FenceAsync(ct).ConfigureAwait(false);
        return FenceMethod.Killed;
    }

    async Task<HostResult<Lsn>> IInstanceDriver.StopCleanAsync(CancellationToken ct) =>
        HostResult<Lsn>.Done(await StopCleanAsync(ct).ConfigureAwait(false));

    async Task<HostResult<RejoinReport>> IInstanceDriver.RejoinAsync(ReplicaEndpoint newPrimary, string slotName, bool rebuild,
        Func<DivergentWal, CancellationToken, Task>? saved, CancellationToken ct) =>
        HostResult<RejoinReport>.Done(await RejoinAsync(newPrimary, slotName, rebuild, saved, ct).ConfigureAwait(false));

    async Task<NeedsHostSilo?> IInstanceDriver.RepointAsync(ReplicaEndpoint newPrimary, string slotName, CancellationToken ct)
    {
        await RepointAsync(newPrimary, slotName, ct).ConfigureAwait(false);
        return null;
    }

    async Task<NeedsHostSilo?> IInstanceDriver.StartAsync(CancellationToken ct)
    {
        await StartAsync(ct).ConfigureAwait(false);
        return null;
    }

    async Task<NeedsHostSilo?> IInstanceDriver.StopAsync(StopMode mode, CancellationToken ct)
    {
        await StopAsync(mode, ct).ConfigureAwait(false);
        return null;
    }

    /// <summary>From /proc: the first process of the data directory is the postmaster postmaster.pid names.</summary>
    public bool? PostmasterAlive()
    {
        try
        {
            return Processes() is [var first, ..] && first.Pid == PostmasterPid();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            return null;
        }
    }

    public long? AvailableBytes() => DiskSpace.AvailableBytes(DataDirectory);
}
