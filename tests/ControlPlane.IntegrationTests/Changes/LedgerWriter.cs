using System.Diagnostics;
using Npgsql;

namespace ControlPlane.IntegrationTests.Changes;

/// <summary>
/// An independent writer: keeps inserting into <c>ledger</c> of a few target schemas, round robin, one session per
/// schema, counting writes, failures and the longest single write (reported, never asserted as a bound).
/// </summary>
internal sealed class LedgerWriter : IAsyncDisposable
{
    private readonly List<(NpgsqlConnection Connection, string Schema)> _sessions;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _writes;
    private int _failures;
    private long _longestTicks;

    private LedgerWriter(List<(NpgsqlConnection, string)> sessions)
    {
        _sessions = sessions;
        _loop = Task.Run(LoopAsync);
    }

    public int Writes => Volatile.Read(ref _writes);
    public int Failures => Volatile.Read(ref _failures);
    public TimeSpan Longest => TimeSpan.FromTicks(Interlocked.Read(ref _longestTicks));

    public static async Task<LedgerWriter> StartAsync(ChangeFleetFixture fleet, IReadOnlyList<string> schemas)
    {
        var sessions = new List<(NpgsqlConnection, string)>();
        foreach (var schema in schemas) sessions.Add((await fleet.OpenAsync(), schema));
        return new LedgerWriter(sessions);
    }

    public async Task WaitForWritesAsync(int count)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (Writes < count && DateTime.UtcNow < deadline) await Task.Delay(50);
        if (Writes < count) throw new TimeoutException($"the writer made {Writes} writes, expected {count} ({Failures} failures)");
    }

    private async Task LoopAsync()
    {
        var i = 0;
        while (!_stop.IsCancellationRequested)
        {
            var (connection, schema) = _sessions[i++ % _sessions.Count];
            var clock = Stopwatch.StartNew();
            try
            {
                await using var cmd = new NpgsqlCommand($"INSERT INTO {schema}.ledger (note) VALUES ('writer')", connection);
                await cmd.ExecuteNonQueryAsync(_stop.Token);
                Interlocked.Increment(ref _writes);
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (NpgsqlException)
            {
                Interlocked.Increment(ref _failures);
            }
            var ticks = clock.Elapsed.Ticks;
            long seen;
            while (ticks > (seen = Interlocked.Read(ref _longestTicks)) && Interlocked.CompareExchange(ref _longestTicks, ticks, seen) != seen)
            {
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await _stop.CancelAsync();
        try { await _loop; } catch (OperationCanceledException) { }
        foreach (var (connection, _) in _sessions) await connection.DisposeAsync();
    }
}
