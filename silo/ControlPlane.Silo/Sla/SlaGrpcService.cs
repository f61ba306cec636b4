using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Sla;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Sla;

/// <summary>A tier's availability report. Validates, asks the tier's SLA grain, maps back.</summary>
internal sealed class SlaGrpcService(IClusterClient cluster, IOptions<ControlPlaneOptions> options, IOptions<SlaOptions> sla) : Proto.SlaService.SlaServiceBase
{
    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.SlaReport> GetSla(Proto.GetSlaRequest request, ServerCallContext context)
    {
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        var (period, error) = SlaReporter.ParsePeriod(request.Period, sla.Value);
        if (period is null) throw RequestValidation.Invalid(error);
        var (_, tier) = await TierLookup.RequireAsync(cluster, env, RequestValidation.Name("tier", request.Tier));
        var report = await cluster.GetGrain<ISlaGrain>(FleetKeys.Tier(env, tier)).GetReport(period.Value);
        return SlaMapper.ToProto(report);
    }
}
