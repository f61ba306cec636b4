using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace ControlPlane.Silo.Hosts;

/// <summary>
/// Whether this silo still reaches the cluster: the catalog (its membership table) or any other silo's endpoint.
/// Each source is checked on its own schedule, so a catalog slowed by load never hides a peer that answers; the
/// last moment anything answered is <see cref="LastContact"/>. Only an answer counts: a check that hangs or fails
/// leaves the clock where it was.
/// </summary>
internal sealed class ClusterContact : IAsyncDisposable
{
    private readonly NpgsqlDataSource _catalog;
    private readonly TimeProvider _clock;
    private Task? _catalogCheck;
    private readonly Dictionary<IPEndPoint, Task> _peerChecks = [];
    private long _lastContactTicks;

    public ClusterContact(string catalogConnectionString, TimeSpan deadline, TimeProvider clock)
    {
        var seconds = (int)Math.Max(1, Math.Ceiling(deadline.TotalSeconds));
        _catalog = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(catalogConnectionString)
        {
            Pooling = true,
            MaxPoolSize = 2,
            Timeout = seconds,
            CommandTimeout = seconds,
            // A cut-off catalog never answers a cancel request: break the connection instead of waiting for it.
            CancellationTimeout = -1,
            ApplicationName = "controlplane-self-fence",
        }.ConnectionString);
        _clock = clock;
        _lastContactTicks = clock.GetUtcNow().UtcTicks;
    }

    public DateTimeOffset LastContact => new(Interlocked.Read(ref _lastContactTicks), TimeSpan.Zero);

    /// <summary>Starts a check of every source whose previous check has ended; returns at once.</summary>
    public void Check(IReadOnlyCollection<IPEndPoint> peers, TimeSpan deadline)
    {
        if (_catalogCheck is null || _catalogCheck.IsCompleted) _catalogCheck = CheckCatalogAsync(deadline);
        foreach (var gone in _peerChecks.Keys.Where(k => !peers.Contains(k)).ToList()) _peerChecks.Remove(gone);
        foreach (var peer in peers)
        {
            if (_peerChecks.TryGetValue(peer, out var running) && !running.IsCompleted) continue;
            _peerChecks[peer] = CheckPeerAsync(peer, deadline);
        }
    }

    /// <summary>Checks every source now and waits up to <paramref name="deadline"/>: true when one answered. Asked
    /// before fencing, so a silo whose own process stalled (a pause, a starved thread pool) does not mistake its
    /// own silence for the cluster's.</summary>
    public async Task<bool> ConfirmAsync(IReadOnlyCollection<IPEndPoint> peers, TimeSpan deadline)
    {
        var before = LastContact;
        var checks = peers.Select(p => CheckPeerAsync(p, deadline)).Append(CheckCatalogAsync(deadline)).ToList();
        var all = Task.WhenAll(checks);
        var until = _clock.GetUtcNow() + deadline;
        // The first answer is enough; a check still hanging at the deadline is no answer.
        while (!all.IsCompleted && LastContact == before && _clock.GetUtcNow() < until)
        {
            await Task.WhenAny(all, Task.Delay(TimeSpan.FromMilliseconds(20), _clock)).ConfigureAwait(false);
        }
        return LastContact > before;
    }

    private async Task CheckCatalogAsync(TimeSpan deadline)
    {
        try
        {
            using var cts = new CancellationTokenSource(deadline * 4);
            await using var command = _catalog.CreateCommand("SELECT 1");
            await command.ExecuteScalarAsync(cts.Token).ConfigureAwait(false);
            Touch();
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or IOException or InvalidOperationException)
        {
            // No answer: the clock stays.
        }
    }

    private async Task CheckPeerAsync(IPEndPoint peer, TimeSpan deadline)
    {
        try
        {
            using var cts = new CancellationTokenSource(deadline);
            using var socket = new Socket(peer.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(peer, cts.Token).ConfigureAwait(false);
            Touch();
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            // Refused or silent: no contact.
        }
    }

    private void Touch()
    {
        var now = _clock.GetUtcNow().UtcTicks;
        long seen;
        do
        {
            seen = Interlocked.Read(ref _lastContactTicks);
            if (seen >= now) return;
        }
        while (Interlocked.CompareExchange(ref _lastContactTicks, now, seen) != seen);
    }

    public ValueTask DisposeAsync() => _catalog.DisposeAsync();
}
