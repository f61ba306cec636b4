using ControlPlane.Grains.Capacity;
using ControlPlane.Grains.Fleet;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Capacity;

/// <summary>A tier's capacity view. Validates, asks the tier's capacity grain, maps back.</summary>
internal sealed class CapacityGrpcService(IClusterClient cluster, IOptions<ControlPlaneOptions> options) : Proto.CapacityService.CapacityServiceBase
{
    private const int DefaultHistory = 200;
    private const int MaxHistory = 10_000;
    private const long MaxWindowSeconds = 10L * 365 * 86400;
    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.CapacityView> GetCapacity(Proto.GetCapacityRequest request, ServerCallContext context)
    {
        var window = Window(request.Window);
        if (request.HistoryLimit is < 0 or > MaxHistory)
            throw RequestValidation.Invalid($"history_limit {request.HistoryLimit} is out of range; expected 0 (default {DefaultHistory}) to {MaxHistory}.");
        if (request.Resource.Length > 0 && !CapacityResources.All.Contains(request.Resource))
            throw RequestValidation.Invalid($"resource '{RequestValidation.Shown(request.Resource)}' is unknown; expected one of: {string.Join(", ", CapacityResources.All)}.");
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var report = await Grain(env, tier).GetReport(window);
        return CapacityMapper.ToProto(report, request.HistoryLimit == 0 ? DefaultHistory : request.HistoryLimit, request.Resource);
    }

    public override async Task<Proto.CapacityView> SampleCapacity(Proto.SampleCapacityRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        try
        {
            return CapacityMapper.ToProto(await Grain(env, tier).Sample(), DefaultHistory, "");
        }
        catch (InvalidOperationException e)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, e.Message));
        }
    }

    /// <summary>Null when unset; a positive duration of at most ten years otherwise (nanos as protobuf defines them).</summary>
    private static TimeSpan? Window(Duration? window)
    {
        if (window is null) return null;
        if (window.Seconds < 0 || window.Nanos is < 0 or > 999_999_999 || window.Seconds > MaxWindowSeconds || (window.Seconds == 0 && window.Nanos == 0))
            throw RequestValidation.Invalid($"window {window.Seconds}s {window.Nanos}ns is out of range; expected a positive duration of at most 10 years, or none for the whole history.");
        return window.ToTimeSpan();
    }

    private ICapacityGrain Grain(string env, string tier) => cluster.GetGrain<ICapacityGrain>(FleetKeys.Tier(env, tier));

    private async Task<(string Env, string Tier)> TierAsync(string environment, string tier)
    {
        var env = RequestValidation.Environment(environment, _defaultEnvironment);
        return await TierLookup.RequireAsync(cluster, env, RequestValidation.Name("tier", tier));
    }
}
