using System.Diagnostics;
using ControlPlane.Bench.Common;
using ControlPlane.Client;
using ControlPlane.Protos.V1;
using Grpc.Core;

namespace ControlPlane.Bench.Watchers;

/// <summary>
/// Opens <c>Watchers</c> WatchTier streams that read (spread over <c>Channels</c> HTTP/2 channels) and <c>Slow</c>
/// that never read (on a channel of their own, as another client would be), then makes real changes to the tier
/// (automatic decisions paused, resumed, ...) and records when each version reaches each reading watcher.
/// </summary>
public static class WatchersRun
{
    private static readonly TimeSpan OpenTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(3);

    public static async Task<WatchersResult> RunAsync(WatchersSettings settings, IProgress<string> progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(progress);
        var loadBefore = MachineInfo.LoadAverage();
        var options = new ControlPlaneClientOptions { Token = settings.Token };
        var clients = Enumerable.Range(0, settings.Channels).Select(_ => new ControlPlaneClient(settings.Endpoint, options)).ToList();
        using var slowClient = new ControlPlaneClient(settings.Endpoint, options);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var slowCalls = new List<AsyncServerStreamingCall<TierEvent>>();
        try
        {
            // One GetTier up front: a wrong endpoint, tier or token fails here with its real message.
            await clients[0].Fleet.GetTierAsync(new GetTierRequest { Environment = settings.Environment, Tier = settings.Tier }, cancellationToken: ct);
            await Task.Delay(Settle, ct);
            var rssBefore = SiloMemory.RssKiB(settings.SiloPid);

            var opening = Stopwatch.StartNew();
            var opened = new Opened(settings.Watchers);
            var readers = Enumerable.Range(0, settings.Watchers).Select(_ => new Reader()).ToArray();
            var tasks = readers.Select((r, i) => Task.Run(() => r.RunAsync(clients[i % clients.Count].Fleet, settings, opened, stop.Token), ct)).ToArray();
            await opened.WaitAsync(OpenTimeout, progress, ct);
            for (var i = 0; i < settings.Slow; i++)
            {
                var call = slowClient.Fleet.WatchTier(new WatchTierRequest { Environment = settings.Environment, Tier = settings.Tier }, cancellationToken: stop.Token);
                slowCalls.Add(call);
                await call.ResponseHeadersAsync; // open on the server; never read
            }
            var openSeconds = opening.Elapsed.TotalSeconds;
            progress.Report($"{settings.Watchers} reading and {settings.Slow} stuck watches open after {openSeconds:F1}s");
            await Task.Delay(Settle, ct);
            var rssOpen = SiloMemory.RssKiB(settings.SiloPid);

            var measureFrom = DateTime.UtcNow;
            foreach (var r in readers) r.MeasureFrom = measureFrom;
            var paused = (await clients[0].Fleet.GetTierAsync(new GetTierRequest { Environment = settings.Environment, Tier = settings.Tier }, cancellationToken: ct)).Paused;
            for (var i = 0; i < settings.Changes || paused; i++)
            {
                paused = !paused;
                await Change(clients[0].Failover, settings, paused, ct);
                progress.Report($"change {i + 1}: automatic decisions {(paused ? "paused" : "resumed")}");
                await Task.Delay(settings.Interval, ct);
            }
            await Task.Delay(Settle, ct);
            var rssAfter = SiloMemory.RssKiB(settings.SiloPid);
            await stop.CancelAsync();
            await Task.WhenAll(tasks);
            return Summarise(settings, readers, loadBefore, openSeconds, rssBefore, rssOpen, rssAfter);
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var call in slowCalls) call.Dispose();
            foreach (var client in clients) client.Dispose();
        }
    }

    private static Task Change(FailoverService.FailoverServiceClient failover, WatchersSettings s, bool pause, CancellationToken ct) =>
        pause
            ? failover.PauseTierAsync(new PauseTierRequest { Environment = s.Environment, Tier = s.Tier, Reason = "watchers benchmark" }, cancellationToken: ct).ResponseAsync
            : failover.ResumeTierAsync(new ResumeTierRequest { Environment = s.Environment, Tier = s.Tier }, cancellationToken: ct).ResponseAsync;

    private static WatchersResult Summarise(
        WatchersSettings settings, Reader[] readers, string loadBefore, double openSeconds, long? rssBefore, long? rssOpen, long? rssAfter)
    {
        var byVersion = readers.SelectMany(r => r.Deliveries).GroupBy(d => d.Version).ToList();
        var missed = byVersion.Sum(g => (long)(readers.Length - g.Count()));
        var perWatcher = rssBefore is { } before && rssOpen is { } open ? (open - before) / (double)(settings.Watchers + settings.Slow) : (double?)null;
        return new WatchersResult(
            "watchers", settings, MachineInfo.Capture(), loadBefore, MachineInfo.LoadAverage(), Math.Round(openSeconds, 2),
            rssBefore, rssOpen, rssAfter, perWatcher is { } k ? Math.Round(k, 2) : null, byVersion.Count,
            LatencySummary.FromTicks(readers.SelectMany(r => r.Deliveries).Select(d => d.Ticks).ToArray()),
            LatencySummary.FromTicks(byVersion.Select(g => g.Max(d => d.Ticks)).ToArray()),
            missed, readers.Sum(r => r.Resyncs), readers.Sum(r => r.Errors));
    }

    /// <summary>Counts watches that got their opening snapshot.</summary>
    private sealed class Opened(int expected)
    {
        private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _count;

        public void One()
        {
            if (Interlocked.Increment(ref _count) == expected) _all.TrySetResult();
        }

        public async Task WaitAsync(TimeSpan timeout, IProgress<string> progress, CancellationToken ct)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(timeout);
            while (!_all.Task.IsCompleted)
            {
                if (deadline.IsCancellationRequested) throw new TimeoutException($"only {Volatile.Read(ref _count)} of {expected} watches opened within {timeout}.");
                await Task.WhenAny(_all.Task, Task.Delay(TimeSpan.FromSeconds(2), deadline.Token)).ContinueWith(_ => { }, TaskScheduler.Default);
                progress.Report($"{Volatile.Read(ref _count)} of {expected} watches open");
            }
        }
    }

    /// <summary>One reading watcher: its own buffer of (version, latency) pairs, no shared lock.</summary>
    private sealed class Reader
    {
        public List<(long Version, long Ticks)> Deliveries { get; } = new(capacity: 256);

        public long Resyncs { get; private set; }

        public long Errors { get; private set; }

        public DateTime MeasureFrom { get; set; } = DateTime.MaxValue;

        public async Task RunAsync(FleetService.FleetServiceClient fleet, WatchersSettings s, Opened opened, CancellationToken ct)
        {
            var first = true;
            try
            {
                using var call = fleet.WatchTier(new WatchTierRequest { Environment = s.Environment, Tier = s.Tier }, cancellationToken: ct);
                while (await call.ResponseStream.MoveNext(ct))
                {
                    var e = call.ResponseStream.Current;
                    var received = DateTime.UtcNow;
                    if (first)
                    {
                        first = false;
                        opened.One();
                        continue;
                    }
                    if (e.Kind == TierEventKind.Snapshot) Resyncs++;
                    else if (e.At.ToDateTime() >= MeasureFrom) Deliveries.Add((e.Version, (long)((received - e.At.ToDateTime()).TotalSeconds * Stopwatch.Frequency)));
                }
            }
            catch (Exception ex) when (ct.IsCancellationRequested && ex is OperationCanceledException or RpcException)
            {
            }
            catch (RpcException)
            {
                Errors++;
                if (first) opened.One();
            }
        }
    }
}
