using ControlPlane.Grains.Pools;

namespace ControlPlane.Grains.Changes;

/// <summary>
/// The sessions one batch of a rollout (or a rollback) opens, drawn from the tier's pool budget like any service's:
/// a lease of <see cref="ControlPlaneSessions.Tenant"/> requesting the strategy's concurrency. What the pool grants
/// bounds how many targets run at once (<see cref="ChangeRolloutPolicy.Sessions"/>), so a rollout never pushes the
/// tenants' grants past the tier's capacity. Renewed while the batch runs and released when it ends; a silo killed
/// mid-batch leaves it to expire after one TTL, as a crashed service's would.
/// </summary>
internal sealed class ChangeLease : IAsyncDisposable
{
    public const string Service = "schema-change";

    private readonly IPoolGrain _pool;
    private readonly string _principal;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewals;

    private ChangeLease(IPoolGrain pool, LeaseRecord lease, string principal)
    {
        (_pool, Lease, _principal) = (pool, lease, principal);
        _renewals = RenewAsync(_stop.Token);
    }

    public LeaseRecord Lease { get; }

    /// <summary>Takes the lease; <see cref="PoolRefusedException"/> when the pool has no room (or no capacity yet).</summary>
    public static async Task<ChangeLease> AcquireAsync(IPoolGrain pool, int sessions, string principal)
    {
        ArgumentNullException.ThrowIfNull(pool);
        // TTL 0: the pool's default, within whatever maximum the SRE set for it.
        var view = await pool.Acquire(ControlPlaneSessions.Tenant, Service, sessions, LeaseAccess.ReadWrite, 0, principal);
        return new ChangeLease(pool, view.Lease, principal);
    }

    private async Task RenewAsync(CancellationToken ct)
    {
        var period = Lease.Ttl / 3;
        while (true)
        {
            try
            {
                await Task.Delay(period, ct);
                await _pool.Renew(Lease.Id);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (KeyNotFoundException)
            {
                // Ended under the batch (revoked, or expired while the silo starved): the targets already started
                // finish; the next batch takes a new lease.
                return;
            }
            catch (Exception e) when (e is TimeoutException or OrleansException)
            {
                // The pool grain is moving or busy: the next period tries again, well within the TTL.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _renewals;
        _stop.Dispose();
        try
        {
            await _pool.Release(Lease.Id, _principal);
        }
        catch (KeyNotFoundException)
        {
            // Already ended: nothing to give back.
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            // The batch's results are saved; an unreleased lease ends by itself after one TTL.
        }
    }
}
