using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Tenants;
using ControlPlane.Silo.Gateway;
using Grpc.Core;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Tenants;

internal sealed partial class TenantGrpcService
{
    public override async Task<Proto.TenantAuditResponse> AuditTenantIsolation(Proto.TenantAuditRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tier = RequestValidation.Name("tier", request.Tier);
        var tenant = request.Tenant.Length > 0 ? TenantName(request.Tenant) : "";
        await TierLookup.RequireAsync(cluster, env, tier);
        if (tenant.Length > 0)
        {
            var view = await Grain(env, tenant).Get() ?? throw NotFound(env, tenant);
            if (view.Placements.All(p => p.Tier != tier))
            {
                throw RequestValidation.NotFound(
                    $"tenant '{tenant}' is not placed on tier '{tier}'; it is placed on {(view.Placements.Count == 0 ? "no tier" : string.Join(", ", view.Placements.Select(p => p.Tier)))}.");
            }
        }
        try
        {
            var audit = await cluster.GetGrain<ITenantAuditGrain>(FleetKeys.Tier(env, tier)).Audit(CallerIdentity.Of(context));
            return TenantMapper.ToProto(env, tenant, audit);
        }
        catch (TenantRefusedException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }
    }
}
