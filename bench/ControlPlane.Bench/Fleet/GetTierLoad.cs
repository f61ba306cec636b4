using System.Diagnostics;
using ControlPlane.Bench.Common;
using ControlPlane.Client;
using ControlPlane.Protos.V1;
using Grpc.Core;

namespace ControlPlane.Bench.Fleet;

/// <summary>
/// Closed-loop load on GetTier: <c>Concurrency</c> callers, each issuing its next call as soon as the previous one
/// returns, spread over <c>Channels</c> HTTP/2 channels. Every caller records into its own buffer (no shared lock on
/// the hot path); buffers are merged and sorted once at the end. A call counts when it started inside the measured
/// window (after warm-up); calls still in flight when the window closes are allowed to finish and are counted.
/// </summary>
public static class GetTierLoad
{
    public static async Task<GetTierResult> RunAsync(GetTierSettings settings, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var loadBefore = MachineInfo.LoadAverage();
        var clients = Enumerable.Range(0, settings.Channels).Select(_ => new ControlPlaneClient(settings.Endpoint, new ControlPlaneClientOptions { Token = settings.Token })).ToList();
        try
        {
            var call = Call(settings);
            // One call up front: a wrong endpoint or tier fails here with its real message, not as a wall of errors.
            await call(clients[0].Fleet, DateTime.UtcNow + settings.CallTimeout, ct);

            var start = Stopwatch.GetTimestamp();
            var measureFrom = start + Ticks(settings.Warmup);
            var measureUntil = measureFrom + Ticks(settings.Duration);
            var callers = Enumerable.Range(0, settings.Concurrency)
                .Select(i => Task.Run(() => CallerAsync(clients[i % clients.Count].Fleet, call, settings.CallTimeout, measureFrom, measureUntil, ct), ct))
                .ToArray();
            var outcomes = await Task.WhenAll(callers);
            var lastEnd = outcomes.Max(o => o.LastEnd);
            var measuredSeconds = Stopwatch.GetElapsedTime(measureFrom, Math.Max(lastEnd, measureUntil)).TotalSeconds;

            var all = outcomes.SelectMany(o => o.Samples).ToArray();
            var errors = outcomes.SelectMany(o => o.Errors)
                .GroupBy(kv => kv.Key, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value), StringComparer.Ordinal);
            var latency = LatencySummary.FromTicks(all);
            return new GetTierResult(
                "gettier", settings, MachineInfo.Capture(), loadBefore, MachineInfo.LoadAverage(),
                Math.Round(measuredSeconds, 3), Math.Round(all.Length / measuredSeconds, 1), latency,
                errors.Values.Sum(), errors, outcomes.Sum(o => o.WarmupCalls));
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
        }
    }

    private static async Task<CallerOutcome> CallerAsync(
        FleetService.FleetServiceClient fleet, FleetCall call, TimeSpan timeout, long measureFrom, long measureUntil, CancellationToken ct)
    {
        var samples = new List<long>(capacity: 16 * 1024);
        var errors = new Dictionary<string, long>(StringComparer.Ordinal);
        long warmup = 0;
        long lastEnd = 0;
        while (true)
        {
            var begin = Stopwatch.GetTimestamp();
            if (begin >= measureUntil) break;
            var measured = begin >= measureFrom;
            try
            {
                await call(fleet, DateTime.UtcNow + timeout, ct);
                var end = Stopwatch.GetTimestamp();
                lastEnd = end;
                if (measured) samples.Add(end - begin);
                else warmup++;
            }
            catch (RpcException ex) when (!ct.IsCancellationRequested)
            {
                lastEnd = Stopwatch.GetTimestamp();
                if (measured) errors[ex.StatusCode.ToString()] = errors.GetValueOrDefault(ex.StatusCode.ToString()) + 1;
            }
        }
        return new CallerOutcome(samples, errors, warmup, lastEnd);
    }

    private delegate Task FleetCall(FleetService.FleetServiceClient fleet, DateTime deadline, CancellationToken ct);

    /// <summary>The RPC under load: GetTier of one tier, or ListTiers of the environment (every tier's snapshot).</summary>
    private static FleetCall Call(GetTierSettings settings)
    {
        if (settings.Rpc == GetTierSettings.ListTiers)
        {
            var list = new ListTiersRequest { Environment = settings.Environment };
            return async (fleet, deadline, ct) => await fleet.ListTiersAsync(list, deadline: deadline, cancellationToken: ct);
        }
        var get = new GetTierRequest { Environment = settings.Environment, Tier = settings.Tier };
        return async (fleet, deadline, ct) => await fleet.GetTierAsync(get, deadline: deadline, cancellationToken: ct);
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private sealed record CallerOutcome(List<long> Samples, Dictionary<string, long> Errors, long WarmupCalls, long LastEnd);
}
