using System.Collections.Concurrent;
using System.Globalization;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>What one instance said in one sampling round.</summary>
public sealed record HistorySample(int Round, DateTimeOffset At, string Replica, bool Reachable, bool Writable, int? Timeline);

/// <summary>
/// Samples every instance of a tier about every 100 ms over its own short connections: reachable, writable
/// (not in recovery) and, for a writable one, the timeline it writes on. The invariant it checks afterwards is the
/// split-brain one: in no round did two instances accept writes on the same timeline. A round waits at most
/// <see cref="RoundDeadline"/> for its answers; an instance that has not answered by then (frozen, half dead)
/// counts as unreachable, so one hung instance never stalls the sampling of the others.
/// </summary>
public sealed class HistoryChecker : IAsyncDisposable
{
    private const string SampleSql =
        "SELECT pg_is_in_recovery(), CASE WHEN NOT pg_is_in_recovery() THEN pg_walfile_name(pg_current_wal_lsn()) END";
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan RoundDeadline = TimeSpan.FromMilliseconds(400);
    private readonly IReadOnlyList<ChaosInstance> _instances;
    private readonly ConcurrentQueue<HistorySample> _samples = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private HistoryChecker(IReadOnlyList<ChaosInstance> instances)
    {
        _instances = instances;
        _loop = Task.Run(LoopAsync);
    }

    public static HistoryChecker Start(IReadOnlyList<ChaosInstance> instances) => new(instances);

    public IReadOnlyList<HistorySample> Samples => _samples.ToList();

    public int Rounds => _samples.IsEmpty ? 0 : _samples.Max(s => s.Round) + 1;

    /// <summary>Rounds in which two or more instances were writable on the same timeline, described for a failure message.</summary>
    public IReadOnlyList<string> SplitBrainRounds() =>
        _samples.Where(s => s.Writable)
            .GroupBy(s => (s.Round, s.Timeline))
            .Where(g => g.Count() > 1)
            .Select(g => $"round {g.Key.Round} at {g.Min(s => s.At):HH:mm:ss.fff}: {string.Join(", ", g.Select(s => s.Replica))} writable on timeline {g.Key.Timeline}")
            .ToList();

    /// <summary>Names of the instances writable in the last round that got any answer.</summary>
    public IReadOnlyList<string> WritableInLastRound()
    {
        var last = _samples.Where(s => s.Reachable).Select(s => s.Round).DefaultIfEmpty(-1).Max();
        return _samples.Where(s => s.Round == last && s.Writable).Select(s => s.Replica).Order(StringComparer.Ordinal).ToList();
    }

    public string Summary() =>
        $"{Rounds} rounds; writable samples per instance: " +
        string.Join(", ", _instances.Select(i => $"{i.Name}={_samples.Count(s => s.Replica == i.Name && s.Writable)}"));

    /// <summary>Stops sampling; idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await _stop.CancelAsync();
        await _loop;
    }

    private async Task LoopAsync()
    {
        for (var round = 0; !_stop.IsCancellationRequested; round++)
        {
            var started = DateTimeOffset.UtcNow;
            var pending = _instances.Select(i => (Instance: i, Task: SampleAsync(i))).ToList();
            var all = Task.WhenAll(pending.Select(p => p.Task));
            await Task.WhenAny(all, Task.Delay(RoundDeadline, CancellationToken.None));
            foreach (var (instance, task) in pending)
            {
                var (reachable, writable, timeline) = task.IsCompletedSuccessfully ? task.Result : (false, false, null);
                _samples.Enqueue(new HistorySample(round, started, instance.Name, reachable, writable, timeline));
            }
            var wait = Period - (DateTimeOffset.UtcNow - started);
            if (wait > TimeSpan.Zero)
            {
                try { await Task.Delay(wait, _stop.Token); }
                catch (OperationCanceledException) { }
            }
        }
    }

    private static async Task<(bool Reachable, bool Writable, int? Timeline)> SampleAsync(ChaosInstance instance)
    {
        // Abandoned by the round after its deadline; this bound makes sure it ends on its own.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            await using var connection = await instance.OpenAsync(1, 1, cts.Token);
            await using var command = connection.CreateCommand();
            command.CommandText = SampleSql;
            await using var reader = await command.ExecuteReaderAsync(cts.Token);
            await reader.ReadAsync(cts.Token);
            var inRecovery = reader.GetBoolean(0);
            int? timeline = reader.IsDBNull(1) ? null : int.Parse(reader.GetString(1)[..8], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            return (true, !inRecovery, timeline);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or OperationCanceledException or TimeoutException or IOException or InvalidOperationException)
        {
            return (false, false, null);
        }
    }
}
