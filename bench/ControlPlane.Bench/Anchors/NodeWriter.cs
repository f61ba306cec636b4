using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace ControlPlane.Bench.Anchors;

/// <summary>One acknowledged INSERT: when its session was opened, when the attempt started, when it was acknowledged (Stopwatch timestamps), and by which node (its port).</summary>
public sealed record NodeAck(long Session, long Started, long Acked, int Port);

/// <summary>
/// The independent writer of the side-by-side benchmark, the same for every system: it knows only the nodes' ports
/// and finds the writable one as libpq's <c>target_session_attrs=read-write</c> does (a session on each node,
/// <c>SHOW transaction_read_only</c>), all nodes probed at once so a frozen one costs one attempt's bound, not a turn
/// each. It tries an INSERT about every 10 ms, each attempt bounded at 500 ms. With <c>freshSessions</c> every write
/// opens its own session (a client not yet connected: what a postmaster that accepts no connection strands);
/// otherwise it keeps one session and looks for the writable node again after an error.
/// </summary>
public sealed class NodeWriter : IAsyncDisposable
{
    public const string CreateTableSql =
        "CREATE TABLE IF NOT EXISTS bench_writes (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())";
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromMilliseconds(500);
    private readonly IReadOnlyList<int> _ports;
    private readonly string _user;
    private readonly string _password;
    private readonly bool _freshSessions;
    private readonly ConcurrentQueue<NodeAck> _acks = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private NodeWriter(IReadOnlyList<int> ports, string user, string password, bool freshSessions)
    {
        _ports = ports;
        _user = user;
        _password = password;
        _freshSessions = freshSessions;
        _loop = Task.Run(WriteAsync);
    }

    public static NodeWriter Start(IReadOnlyList<int> ports, string user, string password, bool freshSessions) => new(ports, user, password, freshSessions);

    /// <summary>
    /// The first write on a session opened at or after <paramref name="timestamp"/>, optionally on a node other than
    /// <paramref name="notOn"/>. A session opened before a fault does not count: a backend outlives its SIGKILLed
    /// postmaster and keeps acknowledging writes on a server that takes no new session and is about to be replaced.
    /// </summary>
    public NodeAck? FirstAckSince(long timestamp, int? notOn = null) =>
        _acks.FirstOrDefault(a => a.Session >= timestamp && (notOn is null || a.Port != notOn));

    /// <summary>Writes acknowledged after <paramref name="timestamp"/> on a session opened before it (an orphaned backend's, after a postmaster kill).</summary>
    public int AcksOnOlderSessions(long timestamp, int port) => _acks.Count(a => a.Started >= timestamp && a.Session < timestamp && a.Port == port);

    /// <summary>The acknowledged writes acknowledged within [from, to].</summary>
    public IReadOnlyList<NodeAck> Between(long from, long to) => _acks.Where(a => a.Acked >= from && a.Acked <= to).ToList();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    /// <summary>The writable node's port, asking every node at once; null when none answers writable within the bound.</summary>
    public static async Task<int?> FindWritableAsync(IReadOnlyList<int> ports, string user, string password, CancellationToken ct)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(AttemptTimeout);
        var probes = ports.Select(async port =>
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString(port, user, password));
                await connection.OpenAsync(bound.Token);
                await using var show = new NpgsqlCommand("SHOW transaction_read_only", connection);
                return (string?)await show.ExecuteScalarAsync(bound.Token) == "off" ? port : (int?)null;
            }
            catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or IOException or InvalidOperationException)
            {
                return null;
            }
        }).ToList();
        var found = await Task.WhenAll(probes);
        return found.FirstOrDefault(p => p is not null);
    }

    public static string ConnectionString(int port, string user, string password) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = port,
        Database = "postgres",
        Username = user,
        Password = password,
        Pooling = false,
        Timeout = 1,
        CommandTimeout = 1,
        // A frozen server never answers a cancel request: do not wait for one.
        CancellationTimeout = -1,
        ApplicationName = "bench-failover-anchors",
    }.ConnectionString;

    private async Task WriteAsync()
    {
        NpgsqlConnection? connection = null;
        var session = 0L;
        int? port = null;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                port ??= await FindWritableAsync(_ports, _user, _password, _stop.Token);
                if (port is null)
                {
                    await Task.Delay(10, _stop.Token);
                    continue;
                }
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                attempt.CancelAfter(AttemptTimeout);
                var started = Stopwatch.GetTimestamp();
                if (connection is null)
                {
                    session = started;
                    connection = new NpgsqlConnection(ConnectionString(port.Value, _user, _password));
                    await connection.OpenAsync(attempt.Token);
                }
                await using (var insert = new NpgsqlCommand("INSERT INTO bench_writes DEFAULT VALUES", connection))
                {
                    await insert.ExecuteNonQueryAsync(attempt.Token);
                }
                _acks.Enqueue(new NodeAck(session, started, Stopwatch.GetTimestamp(), port.Value));
                if (_freshSessions)
                {
                    await connection.DisposeAsync();
                    connection = null;
                }
                await Task.Delay(10, _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or IOException or InvalidOperationException)
            {
                // A read-only node (a demoted primary) or a dead one: look for the writable node again.
                if (connection is not null) await connection.DisposeAsync();
                connection = null;
                port = null;
                try { await Task.Delay(10, _stop.Token); }
                catch (OperationCanceledException) { break; }
            }
        }
        if (connection is not null) await connection.DisposeAsync();
    }
}
