using ControlPlane.Protos.V1;
using Grpc.Core;
using Npgsql;

namespace ControlPlane.Client.Pools;

/// <summary>
/// A connection source for one (tier, tenant, service) that the control plane sizes and routes. It leases a pool
/// size, opens an <see cref="NpgsqlDataSource"/> on the tier's current primary with exactly that many connections
/// and the lease tag as application_name, renews the lease, follows grant changes (WatchLease) and failovers
/// (WatchRouting), and reports its statistics. Callers get plain <see cref="NpgsqlConnection"/>s.
///
/// Retries are limited to what is safe: opening a connection is retried across a failover (within
/// <see cref="ControlPlaneDataSourceOptions.OpenRetryBudget"/>); a statement in flight when the primary goes away
/// fails to the caller, who alone knows whether it may run twice.
/// </summary>
public sealed partial class ControlPlaneDataSource : IAsyncDisposable
{
    private readonly ControlPlaneClient _client;
    private readonly ControlPlaneDataSourceOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _swap = new(1, 1);
    private readonly List<Task> _loops = [];
    private Lease _lease = null!;
    private Lease? _readLease;
    private Routing _routing = null!;
    private PoolTarget _target = null!;
    private PoolTarget? _readTarget;
    private int _waiting;
    private readonly OpenWaits _openWaits = new();

    private ControlPlaneDataSource(ControlPlaneClient client, ControlPlaneDataSourceOptions options)
    {
        _client = client;
        _options = options;
    }

    /// <summary>Acquires the lease, reads the routing and opens the pool; the background loops start at once.</summary>
    public static async Task<ControlPlaneDataSource> CreateAsync(ControlPlaneClient client, ControlPlaneDataSourceOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        var source = new ControlPlaneDataSource(client, options);
        try
        {
            source._lease = await source.AcquireAsync(LeaseAccess.ReadWrite, ct).ConfigureAwait(false);
            if (options.ReadOnlyMaxLag is not null) source._readLease = await source.AcquireAsync(LeaseAccess.ReadOnly, ct).ConfigureAwait(false);
            source._routing = await client.Failover.GetRoutingAsync(source.RoutingRequest(), deadline: Deadline(), cancellationToken: ct).ConfigureAwait(false);
            await source.RebuildAsync("start", ct).ConfigureAwait(false);
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        source.StartLoops();
        return source;
    }

    /// <summary>The current lease id (it changes if the lease had to be acquired again).</summary>
    public string LeaseId => Volatile.Read(ref _lease).LeaseId;

    /// <summary>The pool size the control plane grants now.</summary>
    public int Grant => Volatile.Read(ref _target).Grant;

    /// <summary>host:port of the primary the pool opens connections on.</summary>
    public string Primary => $"{Volatile.Read(ref _target).Host}:{Volatile.Read(ref _target).Port}";

    /// <summary>Connections handed out and not yet closed.</summary>
    public int InUse => Volatile.Read(ref _target).InUse;

    /// <summary>Raised after the pool was rebuilt (grant, lease or primary changed), with the reason.</summary>
    public event Action<string>? Changed;

    /// <summary>An open connection to the primary. Retries opening across a failover; never retries a statement.</summary>
    public Task<NpgsqlConnection> OpenConnectionAsync(CancellationToken ct = default) => OpenAsync(readOnly: false, ct);

    /// <summary>An open connection for reads: a standby within the lag budget when one is configured and fit, else the primary.</summary>
    public Task<NpgsqlConnection> OpenReadOnlyConnectionAsync(CancellationToken ct = default) => OpenAsync(readOnly: true, ct);

    private async Task<NpgsqlConnection> OpenAsync(bool readOnly, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        Interlocked.Increment(ref _waiting);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var deadline = DateTime.UtcNow + _options.OpenRetryBudget;
            for (var attempt = 1; ; attempt++)
            {
                var target = readOnly && Volatile.Read(ref _readTarget) is { } standby ? standby : Volatile.Read(ref _target);
                try
                {
                    var connection = await target.OpenAsync(ct).ConfigureAwait(false);
                    _openWaits.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started));
                    return connection;
                }
                catch (Exception e) when (Retryable(e) && DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
                {
                    // The primary may have gone: ask where it is now, rebuild if it moved, and try again.
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(1000, 100 * attempt)), ct).ConfigureAwait(false);
                    await RefreshRoutingAsync(ct).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    /// <summary>Opening failed for a reason a new attempt (perhaps elsewhere) may fix; wrong credentials or database are not.</summary>
    private static bool Retryable(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState.StartsWith("57", StringComparison.Ordinal) || pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState == "25006",
        NpgsqlException => true,
        ObjectDisposedException => true,
        _ => false,
    };

    private async Task RefreshRoutingAsync(CancellationToken ct)
    {
        try
        {
            var routing = await _client.Failover.GetRoutingAsync(RoutingRequest(), deadline: Deadline(), cancellationToken: ct).ConfigureAwait(false);
            await OnRoutingAsync(routing, ct).ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // The control plane itself is away; the next attempt asks again.
        }
    }

    private async Task OnRoutingAsync(Routing routing, CancellationToken ct)
    {
        var old = Volatile.Read(ref _routing);
        Volatile.Write(ref _routing, routing);
        var moved = routing.Primary is { } p && (p.Host != old.Primary?.Host || p.Port != old.Primary?.Port);
        if (moved) await RebuildAsync($"primary moved to {routing.Primary!.Replica} ({routing.Primary.Host}:{routing.Primary.Port}) in term {routing.Term}", ct).ConfigureAwait(false);
        else if (_options.ReadOnlyMaxLag is not null && Standby(routing) != Standby(old)) await RebuildAsync("standby choice changed", ct).ConfigureAwait(false);
    }

    /// <summary>Builds new inner data sources from the current lease(s) and routing, swaps them in, disposes the old ones.</summary>
    private async Task RebuildAsync(string reason, CancellationToken ct)
    {
        await _swap.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var routing = Volatile.Read(ref _routing);
            var lease = Volatile.Read(ref _lease);
            var primary = routing.Primary ?? throw new InvalidOperationException($"tier '{_options.Tier}' has no primary right now");
            var fresh = new PoolTarget(_options.Connection, primary.Host, primary.Port, lease.Granted, lease.Tag, readWrite: true);
            var old = Interlocked.Exchange(ref _target, fresh);
            PoolTarget? oldRead = null;
            if (_readLease is { } readLease)
            {
                var standby = Standby(routing);
                var freshRead = standby is null ? null : new PoolTarget(_options.Connection, standby.Host, standby.Port, readLease.Granted, readLease.Tag, readWrite: false);
                oldRead = Interlocked.Exchange(ref _readTarget, freshRead);
            }
            if (old is not null) await old.DisposeAsync().ConfigureAwait(false);
            if (oldRead is not null) await oldRead.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _swap.Release();
        }
        Changed?.Invoke(reason);
    }

    /// <summary>The healthy standby with the least lag within the budget, or null.</summary>
    private Endpoint? Standby(Routing routing) => _options.ReadOnlyMaxLag is not { } budget
        ? null
        : routing.Standbys.Where(s => s.Healthy && s.LagSeconds <= budget.TotalSeconds).OrderBy(s => s.LagSeconds).ThenBy(s => s.Replica, StringComparer.Ordinal).FirstOrDefault();

    private async Task<Lease> AcquireAsync(LeaseAccess access, CancellationToken ct) =>
        await _client.Pools.AcquireLeaseAsync(new AcquireLeaseRequest
        {
            Environment = _options.Environment,
            Tier = _options.Tier,
            Tenant = _options.Tenant,
            Service = _options.Service,
            Requested = _options.Requested,
            Access = access,
            TtlSeconds = (int)(_options.Ttl?.TotalSeconds ?? 0),
        }, deadline: Deadline(), cancellationToken: ct).ConfigureAwait(false);

    private GetRoutingRequest RoutingRequest() => new() { Environment = _options.Environment, Tier = _options.Tier };

    private LeaseRequest LeaseRequest(Lease lease) => new() { Environment = _options.Environment, Tenant = _options.Tenant, LeaseId = lease.LeaseId };

    private static DateTime Deadline() => DateTime.UtcNow.AddSeconds(10);

    /// <summary>Stops the loops, releases the lease(s) so their budget returns at once, and closes the pools.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_loops).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A loop stopped mid-call ends however it ends; disposal goes on.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        foreach (var lease in new[] { _lease, _readLease }.OfType<Lease>())
        {
            try
            {
                await _client.Pools.ReleaseLeaseAsync(LeaseRequest(lease), deadline: Deadline()).ConfigureAwait(false);
            }
            catch (RpcException)
            {
                // Unreachable or already ended: the lease expires on its own after its TTL.
            }
        }
        if (_target is not null) await _target.DisposeAsync().ConfigureAwait(false);
        if (_readTarget is not null) await _readTarget.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
        _swap.Dispose();
    }
}
