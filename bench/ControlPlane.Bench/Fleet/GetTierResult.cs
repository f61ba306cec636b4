using System.Globalization;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Fleet;

/// <summary>What a GetTier load run measured. Latency and throughput count only successful calls started after warm-up.</summary>
public sealed record GetTierResult(
    string Benchmark,
    GetTierSettings Settings,
    MachineInfo Machine,
    string LoadBefore,
    string LoadAfter,
    double MeasuredSeconds,
    double CallsPerSecond,
    LatencySummary Latency,
    long Errors,
    IReadOnlyDictionary<string, long> ErrorsByStatus,
    long WarmupCalls)
{
    /// <summary>The human table.</summary>
    public string Render()
    {
        var c = CultureInfo.InvariantCulture;
        var errors = ErrorsByStatus.Count == 0 ? "" : " (" + string.Join(", ", ErrorsByStatus.Select(kv => $"{kv.Key}: {kv.Value}")) + ")";
        return string.Create(c, $"""
            gettier  {Settings.Rpc}  endpoint {Settings.Endpoint}  tier {Settings.Tier}  concurrency {Settings.Concurrency}  channels {Settings.Channels}
                     warmup {DurationArgument.Format(Settings.Warmup)}  measured {MeasuredSeconds:F1}s  ({WarmupCalls} warm-up calls not counted)
              calls       {Latency.Count}
              throughput  {CallsPerSecond:F0} calls/s
              latency ms  min {Latency.MinMs:F3}  mean {Latency.MeanMs:F3}  p50 {Latency.P50Ms:F3}  p90 {Latency.P90Ms:F3}  p99 {Latency.P99Ms:F3}  p99.9 {Latency.P999Ms:F3}  max {Latency.MaxMs:F3}
              errors      {Errors}{errors}
              load avg    before {LoadBefore}  after {LoadAfter}  ({Machine.Processors} cpus)
            """);
    }
}
