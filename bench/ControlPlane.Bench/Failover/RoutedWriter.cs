using System.Collections.Concurrent;
using System.Diagnostics;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Npgsql;

namespace ControlPlane.Bench.Failover;

/// <summary>One acknowledged INSERT: when (Stopwatch timestamp) and on which replica.</summary>
public sealed record Ack(long Timestamp, string Replica);

/// <summary>
/// The client whose view the failover benchmark measures: it learns the primary from <c>GetRouting</c> (polled every
/// 50 ms, and at once after an error) and tries an INSERT about every 10 ms, each bounded at 500 ms so a frozen
/// primary delays it by that at most. Every acknowledged write is timestamped.
/// </summary>
public sealed class RoutedWriter : IAsyncDisposable
{
    public const string CreateTableSql =
        "CREATE TABLE IF NOT EXISTS bench_writes (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())";
    private static readonly TimeSpan RoutingPoll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromMilliseconds(500);
    private readonly FailoverService.FailoverServiceClient _failover;
    private readonly string _tier;
    private readonly string _password;
    private readonly ConcurrentQueue<Ack> _acks = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _writer;
    private readonly Task _router;
    private volatile Endpoint? _primary;

    private RoutedWriter(FailoverService.FailoverServiceClient failover, string tier, string passwordFile)
    {
        _failover = failover;
        _tier = tier;
        _password = File.ReadAllText(passwordFile).Trim();
        _router = Task.Run(RouteAsync);
        _writer = Task.Run(WriteAsync);
    }

    public static RoutedWriter Start(FailoverService.FailoverServiceClient failover, string tier, string passwordFile) => new(failover, tier, passwordFile);

    public IReadOnlyList<Ack> AcksSince(long timestamp) => _acks.Where(a => a.Timestamp >= timestamp).ToList();

    /// <summary>The first write acknowledged at or after <paramref name="timestamp"/> by a replica other than <paramref name="old"/>.</summary>
    public Ack? FirstAckElsewhere(long timestamp, string old) => _acks.FirstOrDefault(a => a.Timestamp >= timestamp && a.Replica != old);

    /// <summary>Longest interval between consecutive acknowledged writes within [from, to] (Stopwatch timestamps).</summary>
    public TimeSpan LongestGap(long from, long to)
    {
        var times = _acks.Where(a => a.Timestamp >= from && a.Timestamp <= to).Select(a => a.Timestamp).ToList();
        var gaps = times.Zip(times.Skip(1), (a, b) => b - a).DefaultIfEmpty(to - from);
        // Also the edges: before the first and after the last write of the window.
        var edges = times.Count == 0 ? to - from : Math.Max(times[0] - from, to - times[^1]);
        return Stopwatch.GetElapsedTime(0, Math.Max(gaps.Max(), edges));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_writer, _router);
        _stop.Dispose();
    }

    private async Task RouteAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var routing = await _failover.GetRoutingAsync(new GetRoutingRequest { Tier = _tier }, deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: _stop.Token);
                _primary = routing.Writable ? routing.Primary : null;
            }
            catch (RpcException)
            {
            }
            try { await Task.Delay(RoutingPoll, _stop.Token); }
            catch (OperationCanceledException) { }
        }
    }

    private async Task WriteAsync()
    {
        NpgsqlConnection? connection = null;
        string? connectedTo = null;
        while (!_stop.IsCancellationRequested)
        {
            var primary = _primary;
            try
            {
                if (primary is null)
                {
                    await Task.Delay(10, _stop.Token);
                    continue;
                }
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                attempt.CancelAfter(AttemptTimeout);
                if (connection is null || connectedTo != primary.Replica)
                {
                    if (connection is not null) await connection.DisposeAsync();
                    connection = null;
                    connection = new NpgsqlConnection(ConnectionString(primary));
                    await connection.OpenAsync(attempt.Token);
                    connectedTo = primary.Replica;
                }
                await using (var insert = new NpgsqlCommand("INSERT INTO bench_writes DEFAULT VALUES", connection))
                {
                    await insert.ExecuteNonQueryAsync(attempt.Token);
                }
                _acks.Enqueue(new Ack(Stopwatch.GetTimestamp(), connectedTo!));
                await Task.Delay(10, _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or IOException or InvalidOperationException)
            {
                if (connection is not null) await connection.DisposeAsync();
                connection = null;
                try { await Task.Delay(10, _stop.Token); }
                catch (OperationCanceledException) { break; }
            }
        }
        if (connection is not null) await connection.DisposeAsync();
    }

    private string ConnectionString(Endpoint primary) => new NpgsqlConnectionStringBuilder
    {
        Host = primary.Host,
        Port = primary.Port,
        Database = "postgres",
        Username = "postgres",
        Password = _password,
        Pooling = false,
        Timeout = 1,
        CommandTimeout = 1,
        // A frozen server never answers a cancel request: do not wait for one.
        CancellationTimeout = -1,
        ApplicationName = "bench-failover",
    }.ConnectionString;
}
