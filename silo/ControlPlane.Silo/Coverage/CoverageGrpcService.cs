using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Coverage;

/// <summary>Coverage of the eleven areas. Validates, asks the gatherer, maps back.</summary>
internal sealed class CoverageGrpcService(IClusterClient cluster, CoverageGatherer gatherer, IOptions<ControlPlaneOptions> options) : Proto.CoverageService.CoverageServiceBase
{
    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.Coverage> GetCoverage(Proto.GetCoverageRequest request, ServerCallContext context)
    {
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        string? tier = null;
        if (request.Tier.Length > 0) (env, tier) = await TierLookup.RequireAsync(cluster, env, RequestValidation.Name("tier", request.Tier));
        // A typo of an environment is not found, rather than an empty coverage that would create alert state for it.
        else if ((await cluster.GetGrain<ControlPlane.Grains.Fleet.IFleetGrain>(env).ListTiers()).Count == 0)
            throw RequestValidation.NotFound($"environment '{env}' has no tiers.");
        return CoverageMapper.ToProto(await gatherer.EvaluateAsync(env, tier));
    }
}
