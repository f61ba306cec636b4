using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Silo.Fleet;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Failover;

/// <summary>Operator commands and routing of a tier's high availability. Validates, asks the tier grain, maps back.</summary>
internal sealed class FailoverGrpcService(
    IClusterClient cluster, TierChangeHub hub, IOptions<ControlPlaneOptions> options, ILogger<FailoverGrpcService> logger)
    : Proto.FailoverService.FailoverServiceBase
{
    private const int ReasonMaxLength = 200;
    private static readonly TimeSpan OperationPoll = TimeSpan.FromMilliseconds(100);
    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.Operation> Switchover(Proto.SwitchoverRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var target = OptionalName("target", request.Target);
        return FailoverMapper.ToProto(await Tier(env, tier).StartSwitchover(target, CallerIdentity.Of(context)));
    }

    public override async Task<Proto.Operation> Failover(Proto.FailoverRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var target = OptionalName("target", request.Target);
        return FailoverMapper.ToProto(await Tier(env, tier).StartFailover(target, request.AllowDataLoss, CallerIdentity.Of(context)));
    }

    public override async Task<Proto.Operation> PauseTier(Proto.PauseTierRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        if (request.Reason.Length > ReasonMaxLength || request.Reason.Any(char.IsControl))
            throw RequestValidation.Invalid($"reason is invalid; expected at most {ReasonMaxLength} printable characters, got {request.Reason.Length}.");
        return FailoverMapper.ToProto(await Tier(env, tier).Pause(CallerIdentity.Of(context), request.Reason));
    }

    public override async Task<Proto.Operation> ResumeTier(Proto.ResumeTierRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        return FailoverMapper.ToProto(await Tier(env, tier).Resume(CallerIdentity.Of(context)));
    }

    public override async Task<Proto.Operation> GetOperation(Proto.GetOperationRequest request, ServerCallContext context) =>
        FailoverMapper.ToProto(await OperationAsync(request));

    public override async Task WatchOperation(Proto.GetOperationRequest request, IServerStreamWriter<Proto.Operation> responseStream, ServerCallContext context)
    {
        var op = await OperationAsync(request);
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        await responseStream.WriteAsync(FailoverMapper.ToProto(op), context.CancellationToken);
        while (!op.Finished)
        {
            await Task.Delay(OperationPoll, context.CancellationToken);
            var next = await Tier(env, op.Tier).GetOperation(op.Id);
            if (next is null) break;
            if (next.State != op.State || next.Steps.Count != op.Steps.Count)
            {
                await responseStream.WriteAsync(FailoverMapper.ToProto(next), context.CancellationToken);
            }
            op = next;
        }
    }

    public override async Task<Proto.ListDecisionsResponse> ListDecisions(Proto.ListDecisionsRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        if (request.Limit is < 0 or > 200) throw RequestValidation.Invalid($"limit {request.Limit} is out of range; expected 0 (default 50) to 200.");
        var decisions = await Tier(env, tier).ListDecisions(request.Limit == 0 ? 50 : request.Limit);
        var response = new Proto.ListDecisionsResponse { Environment = env, Tier = tier };
        response.Decisions.AddRange(decisions.Select(FailoverMapper.ToProto));
        return response;
    }

    public override async Task<Proto.FailoverSettings> GetFailoverSettings(Proto.GetFailoverSettingsRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        return FailoverMapper.ToProto(env, tier, await Tier(env, tier).GetSettings());
    }

    public override async Task<Proto.FailoverSettings> SetFailoverSettings(Proto.SetFailoverSettingsRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        if (request.Settings is null) throw RequestValidation.Invalid("settings is required.");
        if (!Enum.IsDefined(request.Settings.SynchronousMode))
            throw RequestValidation.Invalid($"settings.synchronous_mode {(int)request.Settings.SynchronousMode} is not a known mode.");
        foreach (var name in request.Settings.Priorities.Keys) RequestValidation.Name("settings.priorities key", name);
        var grain = Tier(env, tier);
        var merged = FailoverMapper.Merge(await grain.GetSettings(), request.Settings);
        var errors = merged.Validate();
        if (errors.Count > 0) throw RequestValidation.Invalid("settings." + string.Join(" settings.", errors));
        await grain.SetSettings(merged, CallerIdentity.Of(context));
        return FailoverMapper.ToProto(env, tier, merged);
    }

    public override async Task<Proto.Routing> GetRouting(Proto.GetRoutingRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        return FailoverMapper.Routing(await SnapshotAsync(env, tier));
    }

    public override async Task WatchRouting(Proto.GetRoutingRequest request, IServerStreamWriter<Proto.Routing> responseStream, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        await using var feed = await TierChangeFeed.OpenAsync(hub, env, [tier], logger, context.CancellationToken);
        var last = FailoverMapper.Routing(await SnapshotAsync(env, tier));
        await responseStream.WriteAsync(last, context.CancellationToken);
        while (await feed.Changes.WaitAsync(context.CancellationToken))
        {
            if (!feed.Changes.TryTake(out var item)) continue;
            // Each change carries the whole tier: after dropped changes (a slow reader) or a lost subscription the tier as it is now will do.
            var snapshot = item is WatchItem.Change change ? change.Value.Snapshot : await SnapshotAsync(env, tier);
            if (item is WatchItem.Resync) feed.Resynced();
            if (snapshot.Version <= last.Version) continue;
            var routing = FailoverMapper.Routing(snapshot);
            var unchanged = routing.Clone();
            unchanged.Version = last.Version;
            if (unchanged.Equals(last)) continue;
            await responseStream.WriteAsync(routing, context.CancellationToken);
            last = routing;
        }
    }

    public override async Task<Proto.ListDivergencesResponse> ListDivergences(Proto.ListDivergencesRequest request, ServerCallContext context)
    {
        var (env, tier) = await TierAsync(request.Environment, request.Tier);
        var replica = OptionalName("replica", request.Replica);
        var names = (await SnapshotAsync(env, tier)).Replicas.Select(r => r.Name).ToList();
        if (replica is not null && !names.Contains(replica))
        {
            throw RequestValidation.NotFound($"replica '{replica}' not found in tier '{tier}'; its replicas are {string.Join(", ", names)}.");
        }
        var response = new Proto.ListDivergencesResponse { Environment = env, Tier = tier };
        foreach (var name in replica is null ? names : [replica])
        {
            var reports = await cluster.GetGrain<IReplicaGrain>(FleetKeys.Replica(env, tier, name)).GetDivergences();
            response.Divergences.AddRange(reports.Select(FailoverMapper.ToProto));
        }
        var ordered = response.Divergences.OrderBy(d => d.SavedAt.ToDateTimeOffset()).ToList();
        response.Divergences.Clear();
        response.Divergences.AddRange(ordered);
        return response;
    }

    private async Task<OperationRecord> OperationAsync(Proto.GetOperationRequest request)
    {
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        if (!OperationRecord.TryParseId(request.OperationId, out var tier, out _))
        {
            throw RequestValidation.Invalid(
                $"operation_id '{RequestValidation.Shown(request.OperationId)}' is invalid; expected '<tier>.<number>' as a command returned it, like oltp.3.");
        }
        await TierAsync(env, tier);
        return await Tier(env, tier).GetOperation(request.OperationId)
            ?? throw RequestValidation.NotFound($"operation '{request.OperationId}' not found in tier '{tier}' (only the last 50 are kept).");
    }

    private Task<(string Env, string Tier)> TierAsync(string environment, string tier) =>
        TierLookup.RequireAsync(cluster, RequestValidation.Environment(environment, _defaultEnvironment), RequestValidation.Name("tier", tier));

    private Task<TierSnapshot> SnapshotAsync(string env, string tier) => TierLookup.SnapshotAsync(cluster, env, tier);

    private static string? OptionalName(string field, string value) => string.IsNullOrEmpty(value) ? null : RequestValidation.Name(field, value);

    private ITierGrain Tier(string env, string tier) => cluster.GetGrain<ITierGrain>(FleetKeys.Tier(env, tier));
}
