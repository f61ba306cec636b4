using System.Diagnostics;
using System.Globalization;
using ControlPlane.Grains.Consistency;
using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Consistency;
using ControlPlane.Postgres.Verify;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ControlPlane.Grains.Verify;

/// <summary>
/// The checks a release needs, against a live tier, one after the other: the consistency check, the tier's smoke
/// queries on every replica, a short write load with commit-latency percentiles, and (outside production) a
/// switchover rehearsal through the tier's own switchover, over to a standby and back. A failing step does not stop
/// the others; the report says which failed.
/// </summary>
public sealed class VerifyGrain(
    [PersistentState("verify", FleetKeys.Storage)] IPersistentState<VerifyState> state,
    IOptions<VerifySettings> options,
    ILogger<VerifyGrain> logger) : Grain, IVerifyGrain
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);
    private readonly VerifySettings _settings = options.Value;

    private string Key => this.GetPrimaryKeyString();

    public Task<VerifyReport?> GetLast() => Task.FromResult(state.State.Last);

    public async Task<VerifyReport> Run(VerifyRequest request, string principal)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parts = Key.Split('/');
        var (env, tier) = (parts[0], parts[1]);
        var startedAt = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var steps = new List<VerifyStepResult>
        {
            await StepAsync("consistency", ConsistencyAsync),
        };
        var queries = _settings.SmokeQueriesOf(tier);
        for (var i = 0; i < queries.Count; i++)
        {
            var sql = queries[i];
            steps.Add(await StepAsync($"smoke:{i + 1}", () => SmokeAsync(sql)));
        }
        steps.Add(await StepAsync("write-load", () => LoadAsync(request)));
        steps.Add(request.SkipSwitchover || _settings.IsProduction(env)
            ? new VerifyStepResult("switchover", VerifyOutcome.Skipped, TimeSpan.Zero,
                _settings.IsProduction(env) ? $"environment '{env}' is production: no switchover rehearsal" : "skipped on request", new Dictionary<string, double>())
            : await StepAsync("switchover", () => SwitchoverAsync(principal)));
        var report = new VerifyReport(env, tier, startedAt, clock.Elapsed, steps);
        state.State.Last = report;
        try
        {
            await state.WriteStateAsync();
        }
        catch (Exception ex) when (ex is not InconsistentStateException)
        {
            logger.LogWarning("Verify report of {Tier} not persisted: {Error}", Key, ex.Message);
        }
        logger.LogInformation("Verify of {Tier}: {Verdict} ({Failed} failed of {Steps})", Key, report.Passed ? "passed" : "FAILED",
            steps.Count(s => s.Outcome == VerifyOutcome.Failed), steps.Count);
        return report;
    }

    private delegate Task<(bool Passed, string Detail, Dictionary<string, double> Measurements)> Step();

    /// <summary>Runs one step; an error it meets is its failure, never the whole verification's.</summary>
    private async Task<VerifyStepResult> StepAsync(string name, Step step)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var (passed, detail, measurements) = await step();
            return new VerifyStepResult(name, passed ? VerifyOutcome.Passed : VerifyOutcome.Failed, clock.Elapsed, detail, measurements);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or TimeoutException or NpgsqlException or IOException or OrleansException or TierConflictException)
        {
            return new VerifyStepResult(name, VerifyOutcome.Failed, clock.Elapsed, ex.Message, new Dictionary<string, double>());
        }
    }

    private async Task<(bool, string, Dictionary<string, double>)> ConsistencyAsync()
    {
        var report = await GrainFactory.GetGrain<IConsistencyGrain>(Key).Check([]);
        var bad = report.Tables.Where(t => !t.Consistent).Select(t => $"{t.Table} {string.Join(" ", t.Mismatches.Select(m => $"{m.Replica}:{m.Range}"))}")
            .Concat(report.Standbys.Where(s => s.Error.Length > 0).Select(s => $"{s.Replica}: {s.Error}"))
            .Concat(report.Pairs.Where(p => !p.Equal).Select(p => $"pair {p.Name}: {p.Left} vs {p.Right} {p.Error}")).ToList();
        var detail = report.Consistent
            ? $"{report.Tables.Count} tables, {report.RowsCompared} rows equal on {report.Standbys.Count} standbys at {report.Lsn}"
            : $"mismatch at {report.Lsn}: {string.Join("; ", bad)}";
        return (report.Consistent, detail, new Dictionary<string, double> { ["rows"] = report.RowsCompared, ["tables"] = report.Tables.Count });
    }

    private async Task<(bool, string, Dictionary<string, double>)> SmokeAsync(string sql)
    {
        var spec = await SpecAsync();
        var answers = new List<string>();
        foreach (var replica in spec.Replicas)
        {
            var value = await ReadOnlyScalar.ReadAsync(ReplicaGrain.Endpoint(replica), sql, 30, "controlplane-verify", CancellationToken.None);
            answers.Add($"{replica.Name}={value}");
        }
        return (true, $"{sql} -> {string.Join(", ", answers)}", new Dictionary<string, double> { ["replicas"] = spec.Replicas.Count });
    }

    private async Task<(bool, string, Dictionary<string, double>)> LoadAsync(VerifyRequest request)
    {
        var spec = await SpecAsync();
        var primaryName = (await GrainFactory.GetGrain<ITierGrain>(Key).GetSnapshot())?.Primary;
        var primary = spec.Replicas.FirstOrDefault(r => r.Name == primaryName) ?? throw new InvalidOperationException($"tier has no primary ('{primaryName}').");
        var result = await WriteLoad.RunAsync(ReplicaGrain.Endpoint(primary), request.Load, request.LoadClients, request.Driver, CancellationToken.None);
        var l = result.Latency;
        var measurements = new Dictionary<string, double>
        {
            ["transactions"] = result.Transactions,
            ["errors"] = result.Errors,
            ["tps"] = Math.Round(result.TransactionsPerSecond, 1),
            ["p50_ms"] = Math.Round(l.P50Ms, 3),
            ["p95_ms"] = Math.Round(l.P95Ms, 3),
            ["p99_ms"] = Math.Round(l.P99Ms, 3),
            ["max_ms"] = Math.Round(l.MaxMs, 3),
        };
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"{result.Driver} driver, {request.LoadClients} clients, {result.Elapsed.TotalSeconds:0.0} s on {primary.Name}: {result.Transactions} commits ({result.TransactionsPerSecond:0.0}/s), p50 {l.P50Ms:0.00} ms, p95 {l.P95Ms:0.00} ms, p99 {l.P99Ms:0.00} ms, max {l.MaxMs:0.00} ms, {result.Errors} errors");
        if (result.FirstError.Length > 0) detail += $"; first error: {result.FirstError}";
        return (result.Errors == 0 && result.Transactions > 0, detail, measurements);
    }

    /// <summary>Over to the best standby through the tier's own switchover, then back to the primary it started with.</summary>
    private async Task<(bool, string, Dictionary<string, double>)> SwitchoverAsync(string principal)
    {
        var tier = GrainFactory.GetGrain<ITierGrain>(Key);
        var original = (await tier.GetSnapshot())?.Primary ?? throw new InvalidOperationException("the tier has no primary.");
        var over = await SwitchAsync(tier, null, principal);
        if (over.Record.State != OperationState.Succeeded)
            return (false, $"switchover from {original} failed: {over.Record.Error}", new Dictionary<string, double> { ["over_s"] = over.Elapsed.TotalSeconds });
        var reached = (await tier.GetSnapshot())?.Primary ?? "?";
        await WaitHealthyAsync(tier);
        var back = await SwitchAsync(tier, original, principal);
        await WaitHealthyAsync(tier);
        var measurements = new Dictionary<string, double> { ["over_s"] = Math.Round(over.Elapsed.TotalSeconds, 3), ["back_s"] = Math.Round(back.Elapsed.TotalSeconds, 3) };
        return back.Record.State == OperationState.Succeeded
            ? (true, string.Create(CultureInfo.InvariantCulture, $"{original} -> {reached} in {over.Elapsed.TotalSeconds:0.0} s, back to {original} in {back.Elapsed.TotalSeconds:0.0} s"), measurements)
            : (false, $"switched to {reached}, but the switch back to {original} failed: {back.Record.Error}", measurements);
    }

    private async Task<(OperationRecord Record, TimeSpan Elapsed)> SwitchAsync(ITierGrain tier, string? target, string principal)
    {
        var clock = Stopwatch.StartNew();
        var op = await tier.StartSwitchover(target, principal);
        while (op.State is OperationState.Pending or OperationState.Running)
        {
            if (clock.Elapsed > _settings.SwitchoverTimeout) throw new TimeoutException($"switchover {op.Id} did not finish within {_settings.SwitchoverTimeout}.");
            await Task.Delay(Poll);
            op = await tier.GetOperation(op.Id) ?? op;
        }
        return (op, clock.Elapsed);
    }

    /// <summary>Waits (bounded) until every replica streams again, so the next leg has a standby to switch to.</summary>
    private async Task WaitHealthyAsync(ITierGrain tier)
    {
        var clock = Stopwatch.StartNew();
        while ((await tier.GetSnapshot())?.Health != TierHealth.Healthy)
        {
            if (clock.Elapsed > _settings.SwitchoverTimeout) throw new TimeoutException($"the tier did not become healthy within {_settings.SwitchoverTimeout} after a switchover.");
            await Task.Delay(Poll);
        }
    }

    private async Task<TierSpec> SpecAsync() =>
        await GrainFactory.GetGrain<ITierGrain>(Key).GetSpec() ?? throw new InvalidOperationException($"tier '{Key}' is not registered yet.");
}
