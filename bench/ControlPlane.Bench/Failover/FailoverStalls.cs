using System.Diagnostics;
using ControlPlane.Client;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Npgsql;

namespace ControlPlane.Bench.Failover;

/// <summary>Stalls of one kind and length, and what they caused.</summary>
/// <param name="Kind">sigstop-primary, sigstop-tier or checkpoint.</param>
/// <param name="LengthMs">The freeze's length; for a checkpoint, the median CHECKPOINT time measured.</param>
/// <param name="Failovers">Terms the tier moved on across these stalls (each a false failover).</param>
/// <param name="Alerts">alert decisions the tier recorded across them (a failure window vetoed by a streaming standby, say).</param>
public sealed record StallSummary(string Kind, double LengthMs, int Stalls, int Failovers, int Alerts);

/// <summary>
/// Issue 21 mode 7, "slow, not dead": stalls that must not fail the tier over — SIGSTOP freezes of the primary (or of
/// every instance of the tier) of the given lengths, and I/O-heavy checkpoints. After each stall the tier decides
/// (<see cref="SettleAsync"/>); a moved term is a false failover, and the next stall waits for convergence.
/// </summary>
internal static class FailoverStalls
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(30);

    public static async Task<IReadOnlyList<StallSummary>> RunAsync(ControlPlaneClient client, FailoverBenchSettings settings, string passwordFile,
        Func<string, LocalInstanceDriver> driverOf, Func<Task<Tier?>> converged, TextWriter log, CancellationToken ct)
    {
        var results = new List<StallSummary>();
        var counts = settings.Lengths.ToDictionary(l => l, _ => (Stalls: 0, Failovers: 0, Alerts: 0));
        var tier = await converged() ?? throw new InvalidOperationException("tier not converged before the stalls");
        var kind = settings.PauseScope == StallScope.Tier ? "sigstop-tier" : "sigstop-primary";
        for (var i = 0; i < settings.Pauses; i++)
        {
            ct.ThrowIfCancellationRequested();
            var length = settings.Lengths[i % settings.Lengths.Count];
            var frozen = (settings.PauseScope == StallScope.Tier ? tier.Replicas.Select(r => r.Name) : [tier.Primary]).Select(driverOf).ToList();
            var lastDecision = await LastSequenceAsync(client, ct);
            foreach (var d in frozen) await d.SignalAllAsync(InstanceSignal.Stop, ct);
            try { await Task.Delay(length, CancellationToken.None); }
            finally
            {
                foreach (var d in frozen) await d.SignalAllAsync(InstanceSignal.Continue, CancellationToken.None);
            }
            await SettleAsync(client, tier, DateTimeOffset.UtcNow, ct);
            var (failed, alerts, next) = await OutcomeAsync(client, tier, lastDecision, converged, ct);
            var c = counts[length];
            counts[length] = (c.Stalls + 1, c.Failovers + failed, c.Alerts + alerts);
            if (failed > 0 || alerts > 0) await log.WriteLineAsync($"stall {i + 1} ({kind} {length.TotalMilliseconds:F0} ms): {failed} failover(s), {alerts} alert decision(s)");
            tier = next;
        }
        foreach (var (length, c) in counts.Where(kv => kv.Value.Stalls > 0))
        {
            results.Add(new StallSummary(kind, length.TotalMilliseconds, c.Stalls, c.Failovers, c.Alerts));
            await log.WriteLineAsync($"{c.Stalls} stalls ({kind}) of {length.TotalMilliseconds:F0} ms: {c.Failovers} failovers, {c.Alerts} alert decisions");
        }
        if (settings.CheckpointStalls > 0) results.Add(await CheckpointsAsync(client, settings, passwordFile, tier, converged, log, ct));
        return results;
    }

    /// <summary>Ballast written on the primary, then a CHECKPOINT that writes it all out at once (the disk is the stall).</summary>
    private static async Task<StallSummary> CheckpointsAsync(ControlPlaneClient client, FailoverBenchSettings settings, string passwordFile, Tier tier,
        Func<Task<Tier?>> converged, TextWriter log, CancellationToken ct)
    {
        var (failovers, alerts) = (0, 0);
        var took = new List<double>();
        // ~1 KiB per row.
        var rows = settings.CheckpointBallastMiB * 1024;
        for (var i = 0; i < settings.CheckpointStalls; i++)
        {
            var lastDecision = await LastSequenceAsync(client, ct);
            var primary = tier.Replicas.Single(r => r.Name == tier.Primary);
            await using (var connection = await FailoverRun.OpenAsync(primary, passwordFile, ct))
            {
                await ExecuteAsync(connection, "CREATE TABLE IF NOT EXISTS bench_ballast (id int, pad text); TRUNCATE bench_ballast; CHECKPOINT", ct);
                await ExecuteAsync(connection, $"INSERT INTO bench_ballast SELECT g, repeat(md5(g::text), 31) FROM generate_series(1, {rows}) g", ct);
                var t0 = Stopwatch.GetTimestamp();
                await ExecuteAsync(connection, "CHECKPOINT", ct);
                took.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                await ExecuteAsync(connection, "DROP TABLE bench_ballast", ct);
            }
            await SettleAsync(client, tier, DateTimeOffset.UtcNow, ct);
            var (failed, alerted, next) = await OutcomeAsync(client, tier, lastDecision, converged, ct);
            (failovers, alerts, tier) = (failovers + failed, alerts + alerted, next);
            await log.WriteLineAsync($"checkpoint stall {i + 1}: CHECKPOINT of ~{settings.CheckpointBallastMiB} MiB took {took[^1]:F0} ms; {failed} failover(s), {alerted} alert decision(s)");
        }
        took.Sort();
        return new StallSummary("checkpoint", took[took.Count / 2], settings.CheckpointStalls, failovers, alerts);
    }

    /// <summary>
    /// Until the tier has judged the stall: the term moved, or the primary was probed healthy well after the thaw (a
    /// decision can come after the thaw: the probe failures of the freeze still count), at most <see cref="SettleLimit"/>.
    /// </summary>
    private static async Task SettleAsync(ControlPlaneClient client, Tier before, DateTimeOffset thawed, CancellationToken ct)
    {
        await Task.Delay(Settle, ct);
        var deadline = DateTime.UtcNow + SettleLimit;
        while (DateTime.UtcNow < deadline)
        {
            var now = await TierAsync(client, ct);
            if (now.Term != before.Term) return;
            var primary = now.Replicas.FirstOrDefault(r => r.Name == now.Primary);
            if (primary is { Healthy: true } && primary.LastProbeAt.ToDateTimeOffset() > thawed + Settle) return;
            await Task.Delay(200, ct);
        }
    }

    /// <summary>Whether the term moved (then waits for convergence) and how many alert decisions came since <paramref name="lastDecision"/>.</summary>
    private static async Task<(int Failovers, int Alerts, Tier Tier)> OutcomeAsync(ControlPlaneClient client, Tier before, long lastDecision,
        Func<Task<Tier?>> converged, CancellationToken ct)
    {
        var now = await TierAsync(client, ct);
        var decisions = await Retried(() => client.Failover.ListDecisionsAsync(new ListDecisionsRequest { Tier = FailoverRun.Tier, Limit = 200 }, cancellationToken: ct).ResponseAsync, ct);
        var alerts = decisions.Decisions.Count(d => d.Sequence > lastDecision && d.Kind == "alert");
        var failovers = (int)(now.Term - before.Term);
        var next = failovers == 0 ? now : await converged() ?? throw new InvalidOperationException("the tier did not converge after a false failover");
        return (failovers, alerts, next);
    }

    private static async Task<long> LastSequenceAsync(ControlPlaneClient client, CancellationToken ct)
    {
        var decisions = await Retried(() => client.Failover.ListDecisionsAsync(new ListDecisionsRequest { Tier = FailoverRun.Tier, Limit = 1 }, cancellationToken: ct).ResponseAsync, ct);
        return decisions.Decisions.Select(d => d.Sequence).DefaultIfEmpty(0).Max();
    }

    private static Task<Tier> TierAsync(ControlPlaneClient client, CancellationToken ct) =>
        Retried(() => client.Fleet.GetTierAsync(new GetTierRequest { Tier = FailoverRun.Tier }, deadline: DateTime.UtcNow.AddSeconds(10), cancellationToken: ct).ResponseAsync, ct);

    /// <summary>
    /// A gateway that answers UNAVAILABLE for a moment (its catalog slow to check a token on a loaded machine) is
    /// asked again, for up to <see cref="SettleLimit"/>: the stall being measured must not end the run.
    /// </summary>
    private static async Task<T> Retried<T>(Func<Task<T>> call, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + SettleLimit;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode is Grpc.Core.StatusCode.Unavailable or Grpc.Core.StatusCode.DeadlineExceeded && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500, ct);
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }
}
