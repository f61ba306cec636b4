using ControlPlane.Protos.V1;
using Grpc.Core;

namespace ControlPlane.Client.Pools;

/// <summary>The background loops: renew, follow the grant, follow the routing, report statistics.</summary>
public sealed partial class ControlPlaneDataSource
{
    private static readonly TimeSpan Backoff = TimeSpan.FromSeconds(1);

    private void StartLoops()
    {
        var ct = _stop.Token;
        _loops.Add(Task.Run(() => RenewLoopAsync(ct), ct));
        _loops.Add(Task.Run(() => WatchLeaseLoopAsync(ct), ct));
        _loops.Add(Task.Run(() => WatchRoutingLoopAsync(ct), ct));
        _loops.Add(Task.Run(() => StatsLoopAsync(ct), ct));
    }

    /// <summary>Renews at a third of the TTL, so two renewals can fail before the lease lapses.</summary>
    private async Task RenewLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var period = TimeSpan.FromSeconds(Math.Max(1, _lease.TtlSeconds / 3.0));
            if (!await Delay(period, ct).ConfigureAwait(false)) return;
            await RenewAsync(isRead: false, ct).ConfigureAwait(false);
            if (_readLease is not null) await RenewAsync(isRead: true, ct).ConfigureAwait(false);
        }
    }

    private async Task RenewAsync(bool isRead, CancellationToken ct)
    {
        var lease = isRead ? _readLease! : _lease;
        try
        {
            var renewed = await _client.Pools.RenewLeaseAsync(LeaseRequest(lease), deadline: Deadline(), cancellationToken: ct).ConfigureAwait(false);
            await OnLeaseAsync(renewed, isRead, ct).ConfigureAwait(false);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            // It ended (we were away longer than its TTL, or the control plane lost it): lease again, new tag.
            try
            {
                var fresh = await AcquireAsync(isRead ? LeaseAccess.ReadOnly : LeaseAccess.ReadWrite, ct).ConfigureAwait(false);
                if (isRead) _readLease = fresh;
                else Volatile.Write(ref _lease, fresh);
                await RebuildAsync($"lease {lease.LeaseId} ended; now {fresh.LeaseId}", ct).ConfigureAwait(false);
            }
            catch (RpcException)
            {
                // Refused or unreachable: keep the current pool and try again at the next renewal.
            }
        }
        catch (RpcException)
        {
            // The control plane is away; the lease has two more renewals of slack.
        }
    }

    private async Task OnLeaseAsync(Lease lease, bool isRead, CancellationToken ct)
    {
        var current = isRead ? _readLease! : _lease;
        if (lease.LeaseId != current.LeaseId) return;
        if (isRead) _readLease = lease;
        else Volatile.Write(ref _lease, lease);
        if (lease.Granted != current.Granted && lease.State == LeaseState.Active)
            await RebuildAsync($"grant of {lease.LeaseId} changed {current.Granted} -> {lease.Granted}", ct).ConfigureAwait(false);
    }

    private async Task WatchLeaseLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var call = _client.Pools.WatchLease(LeaseRequest(_lease), cancellationToken: ct);
                await foreach (var lease in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    await OnLeaseAsync(lease, isRead: false, ct).ConfigureAwait(false);
                }
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException)
            {
            }
            // The stream ended (lease ended, or the silo moved): the renew loop re-leases; watch whatever lease is current.
            if (!await Delay(Backoff, ct).ConfigureAwait(false)) return;
        }
    }

    private async Task WatchRoutingLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                using var call = _client.Failover.WatchRouting(RoutingRequest(), cancellationToken: ct);
                await foreach (var routing in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
                {
                    await OnRoutingAsync(routing, ct).ConfigureAwait(false);
                }
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException)
            {
            }
            if (!await Delay(Backoff, ct).ConfigureAwait(false)) return;
        }
    }

    private async Task StatsLoopAsync(CancellationToken ct)
    {
        while (await Delay(_options.StatsInterval, ct).ConfigureAwait(false))
        {
            var lease = _lease;
            var waits = _openWaits.Take();
            try
            {
                var answer = await _client.Pools.ReportPoolStatsAsync(new ReportPoolStatsRequest
                {
                    Environment = _options.Environment,
                    Tenant = _options.Tenant,
                    LeaseId = lease.LeaseId,
                    InUse = InUse,
                    Idle = 0,
                    Waiting = Volatile.Read(ref _waiting),
                    Opens = waits.Opens,
                    OpenWaitSecondsMax = waits.MaxSeconds,
                    OpenWaitSecondsTotal = waits.TotalSeconds,
                }, deadline: Deadline(), cancellationToken: ct).ConfigureAwait(false);
                if (answer.Granted != lease.Granted && lease.LeaseId == _lease.LeaseId)
                {
                    // A grant change the watch missed (it was reconnecting): the report's answer carries it too.
                    var changed = lease.Clone();
                    changed.Granted = answer.Granted;
                    await OnLeaseAsync(changed, isRead: false, ct).ConfigureAwait(false);
                }
            }
            catch (RpcException)
            {
                // Statistics are best effort; the interval's waits go with the next report.
                _openWaits.Restore(waits);
            }
        }
    }

    /// <summary>False when stopped during the wait.</summary>
    private static async Task<bool> Delay(TimeSpan period, CancellationToken ct)
    {
        try
        {
            await Task.Delay(period, ct).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
