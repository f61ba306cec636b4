using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Hardening;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Hardening;

/// <summary>The hardening audit of a tier. Validates, asks the tier's hardening grain, maps back.</summary>
internal sealed class HardeningGrpcService(IClusterClient cluster, IOptions<ControlPlaneOptions> options, CatalogSecurityAudit catalog)
    : Proto.HardeningService.HardeningServiceBase
{
    private const int DefaultTrend = 50;
    private const int MaxTrend = 1000;
    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.SecurityAudit> AuditSecurity(Proto.AuditSecurityRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        string? replica = null;
        if (request.Replica.Length > 0)
        {
            replica = RequestValidation.Name("replica", request.Replica);
            var spec = await cluster.GetGrain<ITierGrain>(FleetKeys.Tier(env, tier)).GetSpec();
            if (spec is null || spec.Replicas.All(r => r.Name != replica))
                throw RequestValidation.NotFound($"replica '{replica}' not found in tier '{tier}'; its replicas are: {string.Join(", ", spec?.Replicas.Select(r => r.Name) ?? [])}.");
        }
        try
        {
            return HardeningMapper.ToProto(await Grain(env, tier).Audit(replica));
        }
        catch (InvalidOperationException e)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, e.Message));
        }
    }

    public override async Task<Proto.SecurityAuditHistory> GetSecurityAudit(Proto.GetSecurityAuditRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        if (request.TrendLimit is < 0 or > MaxTrend)
            throw RequestValidation.Invalid($"trend_limit {request.TrendLimit} is out of range; expected 0 (default {DefaultTrend}) to {MaxTrend}.");
        var grain = Grain(env, tier);
        var last = await grain.GetLast()
            ?? throw RequestValidation.NotFound($"tier '{tier}' has not been audited yet; run cpctl audit-security {tier}, or wait for the scheduled audit.");
        var history = new Proto.SecurityAuditHistory { Last = HardeningMapper.ToProto(last) };
        history.Trend.AddRange((await grain.GetTrend(request.TrendLimit == 0 ? DefaultTrend : request.TrendLimit)).Select(HardeningMapper.ToProto));
        return history;
    }

    public override async Task<Proto.SecurityAudit> AuditCatalogSecurity(Proto.AuditCatalogSecurityRequest request, ServerCallContext context)
    {
        try
        {
            return HardeningMapper.ToProto(await catalog.AuditAsync(context.CancellationToken));
        }
        catch (CatalogUnreachableException e)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, e.Message));
        }
    }

    public override Task<Proto.ListHardeningChecksResponse> ListHardeningChecks(Proto.ListHardeningChecksRequest request, ServerCallContext context) =>
        Task.FromResult(HardeningMapper.Checks());

    private IHardeningGrain Grain(string env, string tier) => cluster.GetGrain<IHardeningGrain>(FleetKeys.Tier(env, tier));

    private async Task<(string Env, string Tier)> TierAsync(string environment, string tier)
    {
        var env = RequestValidation.Environment(environment, _defaultEnvironment);
        return await TierLookup.RequireAsync(cluster, env, RequestValidation.Name("tier", tier));
    }
}
