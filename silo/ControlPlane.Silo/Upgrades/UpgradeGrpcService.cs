using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Upgrades;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Upgrades;

/// <summary>Upgrade rehearsals of a tier. Validates, asks the tier's rehearsal grain, maps back.</summary>
internal sealed class UpgradeGrpcService(IClusterClient cluster, IOptions<ControlPlaneOptions> options) : Proto.UpgradeService.UpgradeServiceBase
{
    private const int DefaultLimit = 20;
    private const int MaxLimit = 50;
    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.UpgradeRehearsal> RehearseUpgrade(Proto.RehearseUpgradeRequest request, ServerCallContext context)
    {
        var method = request.Method switch
        {
            Proto.UpgradeMethod.Logical => UpgradeMethod.Logical,
            Proto.UpgradeMethod.Dump => UpgradeMethod.Dump,
            Proto.UpgradeMethod.PgUpgrade => UpgradeMethod.PgUpgrade,
            _ => throw RequestValidation.Invalid($"method {request.Method} is not an upgrade method; expected UPGRADE_METHOD_LOGICAL, UPGRADE_METHOD_DUMP or UPGRADE_METHOD_PG_UPGRADE."),
        };
        if (request.TargetVersion is < 10 or > 99)
            throw RequestValidation.Invalid($"target_version {request.TargetVersion} is not a PostgreSQL major version; expected 10 to 99 (e.g. 17).");
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        return UpgradeMapper.ToProto(await Grain(env, tier).Rehearse(request.TargetVersion, method, CallerIdentity.Of(context)));
    }

    public override async Task<Proto.UpgradeRehearsal> GetUpgradeRehearsal(Proto.GetUpgradeRehearsalRequest request, ServerCallContext context)
    {
        var id = RequestValidation.Name("rehearsal_id", request.RehearsalId);
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var rehearsal = await Grain(env, tier).Get(id)
            ?? throw RequestValidation.NotFound($"upgrade rehearsal '{id}' not found in tier '{tier}'; cpctl upgrade list {tier} shows its rehearsals.");
        return UpgradeMapper.ToProto(rehearsal);
    }

    public override async Task<Proto.ListUpgradeRehearsalsResponse> ListUpgradeRehearsals(Proto.ListUpgradeRehearsalsRequest request, ServerCallContext context)
    {
        if (request.Limit is < 0 or > MaxLimit)
            throw RequestValidation.Invalid($"limit {request.Limit} is out of range; expected 0 (default {DefaultLimit}) to {MaxLimit}.");
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var response = new Proto.ListUpgradeRehearsalsResponse();
        response.Rehearsals.AddRange((await Grain(env, tier).List(request.Limit == 0 ? DefaultLimit : request.Limit)).Select(UpgradeMapper.ToProto));
        return response;
    }

    public override async Task<Proto.ListUpgradeTargetsResponse> ListUpgradeTargets(Proto.ListUpgradeTargetsRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var (source, targets) = await Grain(env, tier).ListTargets();
        var response = new Proto.ListUpgradeTargetsResponse { SourceVersion = source };
        response.Targets.AddRange(targets.Select(UpgradeMapper.ToProto));
        return response;
    }

    private IUpgradeRehearsalGrain Grain(string env, string tier) => cluster.GetGrain<IUpgradeRehearsalGrain>(FleetKeys.Tier(env, tier));

    private async Task<(string Env, string Tier)> TierAsync(string environment, string tier)
    {
        var env = RequestValidation.Environment(environment, _defaultEnvironment);
        return await TierLookup.RequireAsync(cluster, env, RequestValidation.Name("tier", tier));
    }
}
