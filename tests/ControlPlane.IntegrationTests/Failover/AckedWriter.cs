using System.Collections.Concurrent;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Npgsql;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// A client that keeps inserting increasing ids into <c>chaos_writes</c> through whatever primary
/// <c>GetRouting</c> names, reconnecting on any error, and remembers which ids the server acknowledged (the
/// commit returned). After recovery every acknowledged id must be on the current primary: an id that is missing
/// is a write the failover lost. Ids whose INSERT failed may or may not be there; they prove nothing either way.
/// </summary>
public sealed class AckedWriter : IAsyncDisposable
{
    public const string CreateTableSql =
        "CREATE TABLE IF NOT EXISTS chaos_writes (run text NOT NULL, id bigint NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (run, id))";
    private const string InsertSql = "INSERT INTO chaos_writes (run, id) VALUES ($1, $2)";
    private static readonly TimeSpan RoutingRefresh = TimeSpan.FromMilliseconds(250);
    private readonly Func<CancellationToken, Task<Routing>> _route;
    private readonly string _passwordFile;
    private readonly ConcurrentQueue<(long Id, DateTimeOffset At, string Replica)> _acks = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly bool _freshConnectionPerWrite;
    private int _failures;

    private AckedWriter(Func<CancellationToken, Task<Routing>> route, string passwordFile, string run, bool freshConnectionPerWrite)
    {
        _route = route;
        _passwordFile = passwordFile;
        _freshConnectionPerWrite = freshConnectionPerWrite;
        Run = run;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Distinguishes this writer's rows from every other run's in the same table.</summary>
    public string Run { get; }

    public int Failures => _failures;

    public IReadOnlyList<long> Acknowledged => _acks.Select(a => a.Id).ToList();

    /// <summary>Replicas that acknowledged at least one write, in order of first acknowledgement.</summary>
    public IReadOnlyList<string> AcknowledgedBy => _acks.Select(a => a.Replica).Distinct().ToList();

    /// <param name="freshConnectionPerWrite">Open a new session for every write, as a client without a pool does: it
    /// sees at once a primary that accepts no new session, which a long-lived session does not.</param>
    public static AckedWriter Start(FailoverService.FailoverServiceClient failover, string tier, string passwordFile, string run, bool freshConnectionPerWrite = false) =>
        new(ct => failover.GetRoutingAsync(new GetRoutingRequest { Tier = tier }, deadline: DateTime.UtcNow.AddSeconds(2), cancellationToken: ct).ResponseAsync,
            passwordFile, run, freshConnectionPerWrite);

    /// <summary>A writer routed by <paramref name="route"/> instead of the gateway (which refuses calls while the catalog is down).</summary>
    public static AckedWriter Start(Func<CancellationToken, Task<Routing>> route, string passwordFile, string run) => new(route, passwordFile, run, false);

    /// <summary>When the first write after <paramref name="after"/> was acknowledged by a replica other than <paramref name="notBy"/>.</summary>
    public DateTimeOffset? FirstAcknowledgedAfter(DateTimeOffset after, string notBy) =>
        _acks.Where(a => a.At > after && a.Replica != notBy).Select(a => (DateTimeOffset?)a.At).FirstOrDefault();

    /// <summary>Waits (bounded) until at least <paramref name="count"/> more writes were acknowledged.</summary>
    public async Task WaitForAcksAsync(int count, TimeSpan timeout)
    {
        var target = _acks.Count + count;
        var deadline = DateTime.UtcNow + timeout;
        while (_acks.Count < target)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"writer {Run}: {_acks.Count} acknowledged writes, expected {target} within {timeout}");
            await Task.Delay(20);
        }
    }

    /// <summary>The longest interval between two consecutive acknowledged writes (the client-visible write outage).</summary>
    public TimeSpan LongestGap()
    {
        var times = _acks.Select(a => a.At).ToList();
        return times.Zip(times.Skip(1), (a, b) => b - a).DefaultIfEmpty(TimeSpan.Zero).Max();
    }

    public async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested) await _stop.CancelAsync();
        await _loop;
    }

    /// <summary>Acknowledged ids of this run that <paramref name="primary"/> does not have.</summary>
    public async Task<IReadOnlyList<long>> MissingOnAsync(ChaosInstance primary)
    {
        await using var connection = await primary.OpenAsync(5, 30, CancellationToken.None);
        await using var command = new NpgsqlCommand("SELECT id FROM chaos_writes WHERE run = $1", connection) { Parameters = { new() { Value = Run } } };
        var present = new HashSet<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) present.Add(reader.GetInt64(0));
        return Acknowledged.Where(id => !present.Contains(id)).ToList();
    }

    /// <summary>Stops writing; idempotent.</summary>
    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task LoopAsync()
    {
        NpgsqlConnection? connection = null;
        string? connectedTo = null;
        var checkedAt = DateTime.MinValue;
        long next = 0;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                if (connection is null || DateTime.UtcNow - checkedAt > RoutingRefresh)
                {
                    checkedAt = DateTime.UtcNow;
                    var routing = await _route(_stop.Token);
                    if (routing.Primary is not { } primary || !routing.Writable)
                    {
                        await DropAsync(connection);
                        connection = null;
                        await Task.Delay(10, _stop.Token);
                        continue;
                    }
                    if (connection is null || connectedTo != primary.Replica)
                    {
                        await DropAsync(connection);
                        connection = null;
                        connection = await new ChaosInstance(primary.Replica, primary.Host, primary.Port, _passwordFile).OpenAsync(1, 2, _stop.Token);
                        connectedTo = primary.Replica;
                    }
                }
                var id = ++next;
                await using (var command = new NpgsqlCommand(InsertSql, connection) { Parameters = { new() { Value = Run }, new() { Value = id } } })
                {
                    await command.ExecuteNonQueryAsync(_stop.Token);
                }
                _acks.Enqueue((id, DateTimeOffset.UtcNow, connectedTo!));
                if (_freshConnectionPerWrite)
                {
                    await DropAsync(connection);
                    connection = null;
                }
                await Task.Delay(10, _stop.Token);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is NpgsqlException or RpcException or TimeoutException or IOException or InvalidOperationException or OperationCanceledException)
            {
                Interlocked.Increment(ref _failures);
                await DropAsync(connection);
                connection = null;
                try { await Task.Delay(10, _stop.Token); }
                catch (OperationCanceledException) { break; }
            }
        }
        await DropAsync(connection);
    }

    private static async Task DropAsync(NpgsqlConnection? connection)
    {
        if (connection is not null) await connection.DisposeAsync();
    }
}
