using System.Globalization;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Watchers;

/// <summary>
/// What a <c>watchers</c> run measured. Delivery latency is the time from the tier's publication of a version (the
/// event's <c>at</c>, same clock: client and silo share the machine) to its arrival at one reading watcher;
/// <see cref="AllDelivered"/> takes, per version, the last of the reading watchers to get it.
/// </summary>
public sealed record WatchersResult(
    string Benchmark,
    WatchersSettings Settings,
    MachineInfo Machine,
    string LoadBefore,
    string LoadAfter,
    double OpenSeconds,
    long? RssBeforeKiB,
    long? RssOpenKiB,
    long? RssAfterKiB,
    double? KiBPerWatcher,
    int Versions,
    LatencySummary Delivery,
    LatencySummary AllDelivered,
    long Missed,
    long Resyncs,
    long Errors)
{
    public string Render()
    {
        var c = CultureInfo.InvariantCulture;
        var memory = RssBeforeKiB is null
            ? "not measured (pass --silo-pid)"
            : string.Create(c, $"silo RSS {RssBeforeKiB / 1024.0:F0} MiB before, {RssOpenKiB / 1024.0:F0} MiB with the watches open, {RssAfterKiB / 1024.0:F0} MiB after the changes; {KiBPerWatcher:F1} KiB per watcher");
        return string.Create(c, $"""
            watchers  endpoint {Settings.Endpoint}  tier {Settings.Tier}  watchers {Settings.Watchers} (+{Settings.Slow} that never read)  channels {Settings.Channels}
                      {Settings.Changes} changes (pause/resume) every {DurationArgument.Format(Settings.Interval)}; {OpenSeconds:F1}s to open every watch
              versions      {Versions} published while measuring ({Delivery.Count} deliveries to reading watchers)
              delivery ms   p50 {Delivery.P50Ms:F1}  p90 {Delivery.P90Ms:F1}  p99 {Delivery.P99Ms:F1}  max {Delivery.MaxMs:F1}
              to all ms     p50 {AllDelivered.P50Ms:F1}  p99 {AllDelivered.P99Ms:F1}  max {AllDelivered.MaxMs:F1}  (per version, the last reading watcher)
              missed        {Missed} (version, watcher) pairs not delivered as a change; {Resyncs} resync snapshots to reading watchers
              memory        {memory}
              errors        {Errors}
              load avg      before {LoadBefore}  after {LoadAfter}  ({Machine.Processors} cpus)
            """);
    }
}
