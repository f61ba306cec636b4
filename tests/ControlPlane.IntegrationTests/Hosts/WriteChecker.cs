using System.Collections.Concurrent;
using ControlPlane.IntegrationTests.Failover;
using Npgsql;

namespace ControlPlane.IntegrationTests.Hosts;

/// <summary>One write the checker tried: which instance, whether it committed, and (when it did) the server's clock at
/// the write. Every instance runs on this machine, so their clocks are one clock.</summary>
public sealed record WriteAttempt(int Round, string Replica, bool Accepted, DateTimeOffset? ServerTime, string? Error);

/// <summary>
/// Writes to every instance of a tier every 50 ms, as a client on both sides of any partition would (the test process
/// is outside every host's cgroup, see <see cref="NetworkPartition"/>). What it checks afterwards is the invariant of
/// partitions: never two instances accepting writes at the same instant. A write is an INSERT in an ordinary
/// transaction, so a standby (in recovery) and a fenced primary (<c>default_transaction_read_only</c>) both refuse it.
/// </summary>
public sealed class WriteChecker : IAsyncDisposable
{
    public const string CreateTableSql = "CREATE TABLE IF NOT EXISTS partition_writes (at timestamptz NOT NULL, replica text NOT NULL)";
    private const string WriteSql = "INSERT INTO partition_writes VALUES (clock_timestamp(), $1) RETURNING at";
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan RoundDeadline = TimeSpan.FromMilliseconds(400);
    private readonly IReadOnlyList<ChaosInstance> _instances;
    private readonly ConcurrentQueue<WriteAttempt> _attempts = new();
    private readonly ConcurrentDictionary<string, NpgsqlConnection> _connections = new();
    private readonly ConcurrentDictionary<string, Task<WriteAttempt>> _inFlight = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private WriteChecker(IReadOnlyList<ChaosInstance> instances)
    {
        _instances = instances;
        _loop = Task.Run(LoopAsync);
    }

    public static WriteChecker Start(IReadOnlyList<ChaosInstance> instances) => new(instances);

    public IReadOnlyList<WriteAttempt> Attempts => _attempts.ToList();

    public IReadOnlyList<WriteAttempt> Accepted(string replica) => _attempts.Where(a => a.Accepted && a.Replica == replica).ToList();

    /// <summary>Rounds in which two or more instances accepted a write, described for a failure message.</summary>
    public IReadOnlyList<string> TwoWritableRounds() =>
        _attempts.Where(a => a.Accepted).GroupBy(a => a.Round).Where(g => g.Count() > 1)
            .Select(g => $"round {g.Key}: {string.Join(", ", g.Select(a => $"{a.Replica} at {a.ServerTime:HH:mm:ss.fff}"))}")
            .ToList();

    public async Task WaitForAcceptedAsync(string replica, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Accepted(replica).Count < count)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{replica} accepted {Accepted(replica).Count} of {count} writes within {timeout}; last errors: " +
                    string.Join(" | ", _attempts.Where(a => a.Replica == replica && !a.Accepted).TakeLast(3).Select(a => a.Error)));
            await Task.Delay(100);
        }
    }

    public string Summary() =>
        $"{_attempts.Select(a => a.Round).DefaultIfEmpty(-1).Max() + 1} rounds; accepted per instance: " +
        string.Join(", ", _instances.Select(i => $"{i.Name}={Accepted(i.Name).Count}"));

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await _stop.CancelAsync();
        await _loop;
        foreach (var c in _connections.Values) await c.DisposeAsync();
    }

    private async Task LoopAsync()
    {
        for (var round = 0; !_stop.IsCancellationRequested; round++)
        {
            var started = DateTimeOffset.UtcNow;
            var r = round;
            // An instance whose previous write still hangs is skipped this round rather than stacked up.
            var pending = _instances.Where(i => !(_inFlight.TryGetValue(i.Name, out var running) && !running.IsCompleted))
                .Select(i => _inFlight[i.Name] = WriteAsync(r, i)).ToList();
            await Task.WhenAny(Task.WhenAll(pending), Task.Delay(RoundDeadline, CancellationToken.None));
            var wait = Period - (DateTimeOffset.UtcNow - started);
            if (wait > TimeSpan.Zero)
            {
                try { await Task.Delay(wait, _stop.Token); }
                catch (OperationCanceledException) { }
            }
        }
        await Task.WhenAll(_inFlight.Values);
    }

    private async Task<WriteAttempt> WriteAsync(int round, ChaosInstance instance)
    {
        WriteAttempt attempt;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            if (!_connections.TryGetValue(instance.Name, out var connection))
            {
                connection = await instance.OpenAsync(1, 2, cts.Token);
                _connections[instance.Name] = connection;
            }
            await using var command = new NpgsqlCommand(WriteSql, connection) { Parameters = { new() { Value = instance.Name } } };
            var at = (DateTime)(await command.ExecuteScalarAsync(cts.Token))!;
            attempt = new WriteAttempt(round, instance.Name, true, new DateTimeOffset(at, TimeSpan.Zero), null);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or IOException or InvalidOperationException)
        {
            // A refused write keeps its session; a broken one is opened anew next round.
            if (ex is not PostgresException && _connections.TryRemove(instance.Name, out var broken)) await broken.DisposeAsync();
            attempt = new WriteAttempt(round, instance.Name, false, null, ex.Message);
        }
        _attempts.Enqueue(attempt);
        _inFlight.TryRemove(instance.Name, out _);
        return attempt;
    }
}
