using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Pools;
using ControlPlane.Grains.Tenants;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Pools;

/// <summary>Tenant plans, leases and pool budgets. Validates every field, asks the tenant's grain, the tenant index or the tier's pool grain, maps back.</summary>
internal sealed class PoolGrpcService(IClusterClient cluster, IOptions<ControlPlaneOptions> options) : Proto.PoolService.PoolServiceBase
{
    private const int MaxRequested = TenantPlan.MaxConnections;
    private static readonly TimeSpan LeasePoll = TimeSpan.FromMilliseconds(200);
    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.Tenant> RegisterTenant(Proto.RegisterTenantRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tenant = RequestValidation.Name("tenant", request.Tenant);
        if (ControlPlaneSessions.Reserved(tenant) is { } reserved) throw RequestValidation.Invalid(reserved);
        if (request.Plans.Count == 0) throw RequestValidation.Invalid("plans is required; expected at least one plan (tier, weight, min, max).");
        var plans = new List<TenantPlan>();
        for (var i = 0; i < request.Plans.Count; i++) plans.Add(await PlanAsync(env, $"plans[{i}]", request.Plans[i]));
        if (plans.GroupBy(p => p.Tier).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw RequestValidation.Invalid($"plans names tier '{twice.Key}' more than once; expected one plan per tier.");
        var view = await Refusals(() => Tenant(env, tenant).Register(plans, [], CallerIdentity.Of(context)));
        return PoolMapper.ToProto(env, new TenantRecord(view.Name, view.Plans, view.CreatedAt));
    }

    public override async Task<Proto.Tenant> UpdateTenantPlan(Proto.UpdateTenantPlanRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tenant = RequestValidation.Name("tenant", request.Tenant);
        if (ControlPlaneSessions.Reserved(tenant) is { } reserved) throw RequestValidation.Invalid(reserved);
        if (request.Plan is null) throw RequestValidation.Invalid("plan is required; expected tier, weight, min and max.");
        var plan = await PlanAsync(env, "plan", request.Plan);
        await TenantAsync(env, tenant);
        var view = await Refusals(() => Tenant(env, tenant).UpdatePlan(plan, CallerIdentity.Of(context)));
        return PoolMapper.ToProto(env, new TenantRecord(view.Name, view.Plans, view.CreatedAt));
    }

    public override async Task<Proto.Tenant> GetTenant(Proto.GetTenantRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        return PoolMapper.ToProto(env, await TenantAsync(env, RequestValidation.Name("tenant", request.Tenant)));
    }

    public override async Task<Proto.ListTenantsResponse> ListTenants(Proto.ListTenantsRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var response = new Proto.ListTenantsResponse { Environment = env };
        response.Tenants.AddRange((await Registry(env).List()).Select(t => PoolMapper.ToProto(env, t)));
        return response;
    }

    public override async Task<Proto.Lease> AcquireLease(Proto.AcquireLeaseRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tier = await TierAsync(env, request.Tier);
        var tenant = RequestValidation.Name("tenant", request.Tenant);
        if (ControlPlaneSessions.Reserved(tenant) is { } reserved) throw RequestValidation.Invalid(reserved);
        var service = RequestValidation.Name("service", request.Service);
        if (request.Requested is < 1 or > MaxRequested)
            throw RequestValidation.Invalid($"requested {request.Requested} is out of range; expected 1 to {MaxRequested}.");
        var access = request.Access switch
        {
            Proto.LeaseAccess.Unspecified or Proto.LeaseAccess.ReadWrite => LeaseAccess.ReadWrite,
            Proto.LeaseAccess.ReadOnly => LeaseAccess.ReadOnly,
            _ => throw RequestValidation.Invalid($"access {(int)request.Access} is not a known access; expected LEASE_ACCESS_READ_WRITE or LEASE_ACCESS_READ_ONLY."),
        };
        await TenantAsync(env, tenant);
        if (await Registry(env).GetLifecycle(tenant) is { } lifecycle && lifecycle != TenantLifecycle.Active)
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"tenant '{tenant}' is {TenantLifecyclePolicy.Word(lifecycle)}; it holds no leases until it is active (cpctl tenant resume)."));
        var pool = Pool(env, tier);
        try
        {
            LeaseExpiry.TtlFor(request.TtlSeconds, await pool.GetSettings());
        }
        catch (ArgumentException e)
        {
            throw RequestValidation.Invalid(e.Message);
        }
        return await Refusals(async () => PoolMapper.ToProto(env,
            await pool.Acquire(tenant, service, request.Requested, access, request.TtlSeconds, CallerIdentity.Of(context))));
    }

    public override async Task<Proto.Lease> RenewLease(Proto.LeaseRequest request, ServerCallContext context)
    {
        var (env, tier) = await LeaseAsync(request);
        return PoolMapper.ToProto(env, await Pool(env, tier).Renew(request.LeaseId));
    }

    public override async Task<Proto.Lease> ReleaseLease(Proto.LeaseRequest request, ServerCallContext context)
    {
        var (env, tier) = await LeaseAsync(request);
        return PoolMapper.ToProto(env, await Pool(env, tier).Release(request.LeaseId, CallerIdentity.Of(context)));
    }

    public override async Task WatchLease(Proto.LeaseRequest request, IServerStreamWriter<Proto.Lease> responseStream, ServerCallContext context)
    {
        var (env, tier) = await LeaseAsync(request);
        var pool = Pool(env, tier);
        var view = await pool.GetLease(request.LeaseId) ?? throw RequestValidation.NotFound($"lease '{request.LeaseId}' not found on tier '{tier}'.");
        await responseStream.WriteAsync(PoolMapper.ToProto(env, view), context.CancellationToken);
        while (view.Lease.State == LeaseState.Active)
        {
            await Task.Delay(LeasePoll, context.CancellationToken);
            var next = await pool.GetLease(request.LeaseId);
            if (next is null) break;
            if (next.Lease.Version != view.Lease.Version || next.Lease.State != view.Lease.State)
                await responseStream.WriteAsync(PoolMapper.ToProto(env, next), context.CancellationToken);
            view = next;
        }
    }

    public override async Task<Proto.ListLeasesResponse> ListLeases(Proto.ListLeasesRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tier = await TierAsync(env, request.Tier);
        var response = new Proto.ListLeasesResponse { Environment = env, Tier = tier };
        response.Leases.AddRange((await Pool(env, tier).ListLeases()).Select(l => PoolMapper.ToProto(env, l)));
        return response;
    }

    public override async Task<Proto.PoolBudget> GetPoolBudget(Proto.GetPoolBudgetRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tier = await TierAsync(env, request.Tier);
        return PoolMapper.ToProto(await Pool(env, tier).GetBudget());
    }

    public override async Task<Proto.ReportPoolStatsResponse> ReportPoolStats(Proto.ReportPoolStatsRequest request, ServerCallContext context)
    {
        var (env, tier) = await LeaseAsync(new Proto.LeaseRequest { Environment = request.Environment, Tenant = request.Tenant, LeaseId = request.LeaseId });
        foreach (var (field, value) in new[] { ("in_use", request.InUse), ("idle", request.Idle), ("waiting", request.Waiting) })
        {
            if (value is < 0 or > 1_000_000) throw RequestValidation.Invalid($"{field} {value} is out of range; expected 0 to 1000000.");
        }
        if (request.Opens is < 0 or > 1_000_000_000) throw RequestValidation.Invalid($"opens {request.Opens} is out of range; expected 0 to 1000000000.");
        foreach (var (field, value) in new[] { ("open_wait_seconds_max", request.OpenWaitSecondsMax), ("open_wait_seconds_total", request.OpenWaitSecondsTotal) })
        {
            if (!double.IsFinite(value) || value < 0) throw RequestValidation.Invalid($"{field} {value} is not a finite number of seconds at least 0.");
        }
        if (request.OpenWaitSecondsMax > 3600) throw RequestValidation.Invalid($"open_wait_seconds_max {request.OpenWaitSecondsMax} is out of range; expected 0 to 3600.");
        if (request.OpenWaitSecondsTotal < request.OpenWaitSecondsMax)
            throw RequestValidation.Invalid($"open_wait_seconds_total {request.OpenWaitSecondsTotal} is less than open_wait_seconds_max {request.OpenWaitSecondsMax}; the total includes the longest wait.");
        if (request.Opens == 0 && request.OpenWaitSecondsTotal > 0)
            throw RequestValidation.Invalid($"open_wait_seconds_total {request.OpenWaitSecondsTotal} with opens 0; waits are reported with the opens they belong to.");
        var report = new PoolStatsReport(request.InUse, request.Idle, request.Waiting, DateTimeOffset.UtcNow,
            request.Opens, request.OpenWaitSecondsMax, request.OpenWaitSecondsTotal);
        var lease = await Pool(env, tier).ReportStats(request.LeaseId, report);
        return new Proto.ReportPoolStatsResponse { Granted = lease.Granted, Version = lease.Version };
    }

    public override async Task<Proto.PoolSettings> SetPoolSettings(Proto.SetPoolSettingsRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tier = await TierAsync(env, request.Tier);
        if (request.Settings is null) throw RequestValidation.Invalid("settings is required.");
        var settings = PoolMapper.FromProto(request.Settings);
        var errors = settings.Validate();
        if (errors.Count > 0) throw RequestValidation.Invalid("settings." + string.Join(" settings.", errors));
        await Pool(env, tier).SetSettings(settings, CallerIdentity.Of(context));
        return PoolMapper.ToProto(env, tier, settings);
    }

    public override async Task<Proto.ListPoolDecisionsResponse> ListPoolDecisions(Proto.ListPoolDecisionsRequest request, ServerCallContext context)
    {
        var env = Env(request.Environment);
        var tier = await TierAsync(env, request.Tier);
        if (request.Limit is < 0 or > 200) throw RequestValidation.Invalid($"limit {request.Limit} is out of range; expected 0 (default 50) to 200.");
        var response = new Proto.ListPoolDecisionsResponse { Environment = env, Tier = tier };
        response.Decisions.AddRange((await Pool(env, tier).ListDecisions(request.Limit == 0 ? 50 : request.Limit)).Select(PoolMapper.ToProto));
        return response;
    }

    private async Task<TenantPlan> PlanAsync(string env, string field, Proto.TenantPlan proto)
    {
        var plan = PoolMapper.FromProto(proto);
        RequestValidation.Name($"{field}.tier", plan.Tier);
        await TierLookup.RequireAsync(cluster, env, plan.Tier);
        var errors = plan.Validate();
        if (errors.Count > 0) throw RequestValidation.Invalid($"{field}." + string.Join($" {field}.", errors));
        return plan;
    }

    /// <summary>The lease's environment and tier; the lease id must be well formed and name the request's tenant.</summary>
    private async Task<(string Env, string Tier)> LeaseAsync(Proto.LeaseRequest request)
    {
        var env = Env(request.Environment);
        var tenant = RequestValidation.Name("tenant", request.Tenant);
        if (!LeaseRecord.TryParseId(request.LeaseId, out var tier, out var owner))
        {
            throw RequestValidation.Invalid(
                $"lease_id '{RequestValidation.Shown(request.LeaseId)}' is invalid; expected '<tier>.<tenant>.<number>' as AcquireLease answered it, like oltp.acme.3.");
        }
        if (owner != tenant)
            throw RequestValidation.Invalid($"lease_id '{request.LeaseId}' belongs to tenant '{owner}', not to tenant '{tenant}'.");
        return (env, await TierAsync(env, tier));
    }

    private async Task<TenantRecord> TenantAsync(string env, string tenant) =>
        await Registry(env).Get(tenant) ?? throw RequestValidation.NotFound($"tenant '{tenant}' not found in environment '{env}'; register it first.");

    private static async Task<T> Refusals<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (PoolRefusedException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }
        catch (TenantRefusedException e)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, e.Message));
        }
        catch (TenantExistsException e)
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, e.Message));
        }
    }

    private string Env(string environment) => RequestValidation.Environment(environment, _defaultEnvironment);

    private async Task<string> TierAsync(string env, string tier) => (await TierLookup.RequireAsync(cluster, env, RequestValidation.Name("tier", tier))).Tier;

    private ITenantGrain Tenant(string env, string tenant) => cluster.GetGrain<ITenantGrain>(TenantKeys.Of(env, tenant));

    private ITenantRegistryGrain Registry(string env) => cluster.GetGrain<ITenantRegistryGrain>(env);

    private IPoolGrain Pool(string env, string tier) => cluster.GetGrain<IPoolGrain>(FleetKeys.Tier(env, tier));
}
