using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Pools;
using ControlPlane.Grains.Tenants;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using ControlPlane.Silo.Pools;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Tenants;

/// <summary>The tenant lifecycle. Validates every field, asks the tenant's grain, maps back.</summary>
internal sealed partial class TenantGrpcService(IClusterClient cluster, IOptions<ControlPlaneOptions> options) : Proto.TenantService.TenantServiceBase
{
    private const int MaxReason = 500;
    private static readonly TimeSpan WatchPoll = TimeSpan.FromMilliseconds(200);
    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.TenantInfo> RegisterTenant(Proto.TenantRegisterRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tenant = TenantName(request.Tenant);
        if (ControlPlaneSessions.Reserved(tenant) is { } reserved) throw RequestValidation.Invalid(reserved);
        if (request.Plans.Count == 0 && request.Placements.Count == 0)
            throw RequestValidation.Invalid("plans and placements are both empty; expected at least one plan (tier, weight, min, max) or one placement (tier, kind).");
        var plans = new List<TenantPlan>();
        for (var i = 0; i < request.Plans.Count; i++)
        {
            var plan = PoolMapper.FromProto(request.Plans[i]);
            await TierAsync(env, $"plans[{i}].tier", plan.Tier);
            var errors = plan.Validate();
            if (errors.Count > 0) throw RequestValidation.Invalid($"plans[{i}]." + string.Join($" plans[{i}].", errors));
            plans.Add(plan);
        }
        var placements = new List<TenantPlacement>();
        for (var i = 0; i < request.Placements.Count; i++)
        {
            var p = request.Placements[i];
            await TierAsync(env, $"placements[{i}].tier", p.Tier);
            var kind = TenantMapper.FromProto(p.Kind)
                ?? throw RequestValidation.Invalid($"placements[{i}].kind {(int)p.Kind} is not a known kind; expected PLACEMENT_KIND_SCHEMA or PLACEMENT_KIND_SHARED.");
            if (p.Role.Length > 0 || p.PasswordFile.Length > 0)
                throw RequestValidation.Invalid($"placements[{i}] sets role or password_file; expected them empty: the control plane chooses both.");
            placements.Add(new TenantPlacement(p.Tier, kind));
        }
        Once("plans", plans.Select(p => p.Tier));
        Once("placements", placements.Select(p => p.Tier));
        return await Call(env, tenant, g => g.Register(plans, placements, CallerIdentity.Of(context)));
    }

    public override async Task<Proto.TenantInfo> GetTenant(Proto.TenantRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tenant = TenantName(request.Tenant);
        return TenantMapper.ToProto(await Grain(env, tenant).Get() ?? throw NotFound(env, tenant));
    }

    public override async Task<Proto.TenantListResponse> ListTenants(Proto.TenantListRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var response = new Proto.TenantListResponse { Environment = env };
        foreach (var entry in await cluster.GetGrain<ITenantRegistryGrain>(env).ListIndex())
        {
            if (await Grain(env, entry.Record.Name).Get() is { } view) response.Tenants.Add(TenantMapper.ToProto(view with { History = [] }));
        }
        return response;
    }

    public override Task<Proto.TenantInfo> SuspendTenant(Proto.TenantSuspendRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tenant = TenantName(request.Tenant);
        if (string.IsNullOrWhiteSpace(request.Reason) || request.Reason.Length > MaxReason || request.Reason.Any(char.IsControl))
        {
            throw RequestValidation.Invalid(
                $"reason '{RequestValidation.Shown(request.Reason)}' is invalid; expected why the tenant is suspended, 1 to {MaxReason} characters without control characters.");
        }
        return Call(env, tenant, g => g.Suspend(request.Reason, CallerIdentity.Of(context)));
    }

    public override Task<Proto.TenantInfo> ResumeTenant(Proto.TenantRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tenant = TenantName(request.Tenant);
        return Call(env, tenant, g => g.Resume(CallerIdentity.Of(context)));
    }

    public override Task<Proto.TenantInfo> EraseTenant(Proto.TenantEraseRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tenant = TenantName(request.Tenant);
        if (request.Confirm != tenant)
            throw RequestValidation.Invalid($"confirm '{RequestValidation.Shown(request.Confirm)}' does not repeat the tenant's name; expected '{tenant}' (an erase cannot be undone).");
        return Call(env, tenant, g => g.Erase(CallerIdentity.Of(context)));
    }

    public override Task<Proto.TenantInfo> ProbeTenant(Proto.TenantRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tenant = TenantName(request.Tenant);
        return Call(env, tenant, g => g.Probe(CallerIdentity.Of(context)));
    }

    public override async Task WatchTenant(Proto.TenantRequest request, IServerStreamWriter<Proto.TenantInfo> responseStream, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tenant = TenantName(request.Tenant);
        var grain = Grain(env, tenant);
        var view = await grain.Get() ?? throw NotFound(env, tenant);
        await responseStream.WriteAsync(TenantMapper.ToProto(view), context.CancellationToken);
        while (!context.CancellationToken.IsCancellationRequested)
        {
            await Task.Delay(WatchPoll, context.CancellationToken);
            if (await grain.Get() is not { } next || next.Version == view.Version) continue;
            view = next;
            await responseStream.WriteAsync(TenantMapper.ToProto(view), context.CancellationToken);
        }
    }

    private async Task<Proto.TenantInfo> Call(string env, string tenant, Func<ITenantGrain, Task<TenantView>> call)
    {
        try
        {
            return TenantMapper.ToProto(await call(Grain(env, tenant)));
        }
        catch (KeyNotFoundException e)
        {
            throw RequestValidation.NotFound(e.Message);
        }
        catch (ArgumentException e)
        {
            throw RequestValidation.Invalid(e.Message);
        }
        catch (Exception e) when (e is TenantRefusedException or PoolRefusedException)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }
        catch (TenantExistsException e)
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, e.Message));
        }
    }

    /// <summary>A tenant name that is also a safe PostgreSQL role and schema name (tenant_ + name, at most 63 characters).</summary>
    private static string TenantName(string value)
    {
        var tenant = RequestValidation.Name("tenant", value);
        if ("tenant_".Length + tenant.Length > 63)
            throw RequestValidation.Invalid($"tenant '{tenant}' is too long ({tenant.Length} characters); expected at most 56, so that role and schema tenant_<name> fit PostgreSQL's 63.");
        return tenant;
    }

    private static void Once(string field, IEnumerable<string> tiers)
    {
        if (tiers.GroupBy(t => t, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw RequestValidation.Invalid($"{field} names tier '{twice.Key}' more than once; expected one per tier.");
    }

    private async Task TierAsync(string env, string field, string tier) =>
        await TierLookup.RequireAsync(cluster, env, RequestValidation.Name(field, tier));

    private static RpcException NotFound(string env, string tenant) =>
        RequestValidation.NotFound($"tenant '{tenant}' not found in environment '{env}'; register it first.");

    private string Env(string environment) => RequestValidation.Environment(environment, _defaultEnvironment);

    private ITenantGrain Grain(string env, string tenant) => cluster.GetGrain<ITenantGrain>(TenantKeys.Of(env, tenant));
}
