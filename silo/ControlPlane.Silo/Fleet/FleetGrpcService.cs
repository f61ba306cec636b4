using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Fleet;

/// <summary>
/// Queries and watches of tiers and replicas. Validates, asks the grains, maps back. Queries take the tier names
/// from this silo's <see cref="TierReadCache"/> and the tier's state from its grain.
/// </summary>
internal sealed class FleetGrpcService(
    IClusterClient cluster, TierReadCache reads, TierChangeHub hub, IOptions<ControlPlaneOptions> options, ILogger<FleetGrpcService> logger)
    : Proto.FleetService.FleetServiceBase
{
    /// <summary>How long a watch's feed may stay quiet before the tiers are re-read (see <see cref="ResyncAsync"/>).</summary>
    private static readonly TimeSpan ResyncInterval = TimeSpan.FromSeconds(5);

    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.ListTiersResponse> ListTiers(Proto.ListTiersRequest request, ServerCallContext context)
    {
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        var response = new Proto.ListTiersResponse { Environment = env };
        foreach (var name in await reads.TierNamesAsync(env))
        {
            if (await Tier(env, name).GetSnapshot() is { } snapshot) response.Tiers.Add(FleetMapper.ToProto(snapshot));
        }
        return response;
    }

    public override async Task<Proto.Tier> GetTier(Proto.GetTierRequest request, ServerCallContext context)
    {
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        var tier = RequestValidation.Name("tier", request.Tier);
        return FleetMapper.ToProto(await CachedSnapshotAsync(env, tier));
    }

    public override async Task<Proto.Replica> GetReplica(Proto.GetReplicaRequest request, ServerCallContext context)
    {
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        var tier = RequestValidation.Name("tier", request.Tier);
        var name = RequestValidation.Name("replica", request.Replica);
        var snapshot = await CachedSnapshotAsync(env, tier);
        var replica = snapshot.Replicas.FirstOrDefault(r => r.Name == name)
            ?? throw RequestValidation.NotFound(
                $"replica '{name}' not found in tier '{tier}'; its replicas are: {string.Join(", ", snapshot.Replicas.Select(r => r.Name))}.");
        return FleetMapper.ToProto(env, tier, replica);
    }

    public override async Task WatchTier(Proto.WatchTierRequest request, IServerStreamWriter<Proto.TierEvent> responseStream, ServerCallContext context)
    {
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        var tier = RequestValidation.Name("tier", request.Tier);
        await SnapshotAsync(env, tier);
        await WatchAsync(env, [tier], responseStream, context.CancellationToken);
    }

    public override async Task WatchFleet(Proto.WatchFleetRequest request, IServerStreamWriter<Proto.TierEvent> responseStream, ServerCallContext context)
    {
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        await WatchAsync(env, await TierNamesAsync(env), responseStream, context.CancellationToken);
    }

    /// <summary>Subscribe first, then snapshot: a change between the two is either in the snapshot or in the feed.</summary>
    private async Task WatchAsync(string env, IReadOnlyList<string> tiers, IServerStreamWriter<Proto.TierEvent> output, CancellationToken ct)
    {
        await using var feed = await TierChangeFeed.OpenAsync(hub, env, tiers, logger, ct);
        var sent = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var tier in tiers)
        {
            if (await Tier(env, tier).GetSnapshot() is not { } snapshot) continue;
            await output.WriteAsync(FleetMapper.Snapshot(snapshot), ct);
            sent[tier] = snapshot.Version;
        }
        var changes = feed.Changes;
        while (true)
        {
            bool open;
            using (var tick = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                tick.CancelAfter(ResyncInterval);
                try
                {
                    open = await changes.WaitAsync(tick.Token);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    await ResyncAsync(env, tiers, sent, output, ct);
                    continue;
                }
            }
            if (!open) return;
            while (changes.TryTake(out var item))
            {
                switch (item)
                {
                    case WatchItem.Resync resync:
                        await ResyncAsync(env, [resync.Tier], sent, output, ct);
                        feed.Resynced();
                        break;
                    case WatchItem.Change change:
                        await SendAsync(env, change.Value, sent, output, ct);
                        break;
                }
            }
        }
    }

    private async Task SendAsync(string env, TierChanged change, Dictionary<string, long> sent, IServerStreamWriter<Proto.TierEvent> output, CancellationToken ct)
    {
        var name = change.Snapshot.Name;
        var step = WatchGap.Decide(sent.GetValueOrDefault(name), change.Version);
        if (step == WatchStep.Skip) return;
        // We missed versions (dropped for a slow reader, or lost on the way): a fresh snapshot replaces the lost deltas.
        if (step == WatchStep.Resync && await Tier(env, name).GetSnapshot() is { } fresh && fresh.Version >= change.Version)
        {
            await output.WriteAsync(FleetMapper.Snapshot(fresh), ct);
            sent[name] = fresh.Version;
            return;
        }
        await output.WriteAsync(FleetMapper.Change(change), ct);
        sent[name] = change.Version;
    }

    /// <summary>
    /// A quiet feed is re-checked against the tiers themselves: a delta lost on the way (a memory stream's pub-sub
    /// state lost with a silo, an event dropped during a silo failure) shows as a newer version there, and a
    /// snapshot replaces it. Costs one in-memory grain call per tier per interval. The same answers a resync asked by
    /// the backlog (dropped changes) or by the hub (its subscription to the tier was lost and made again).
    /// </summary>
    private async Task ResyncAsync(string env, IReadOnlyList<string> tiers, Dictionary<string, long> sent, IServerStreamWriter<Proto.TierEvent> output, CancellationToken ct)
    {
        foreach (var tier in tiers)
        {
            if (await Tier(env, tier).GetSnapshot() is not { } snapshot || snapshot.Version <= sent.GetValueOrDefault(tier)) continue;
            await output.WriteAsync(FleetMapper.Snapshot(snapshot), ct);
            sent[tier] = snapshot.Version;
        }
    }

    private Task<TierSnapshot> SnapshotAsync(string env, string tier) => TierLookup.SnapshotAsync(cluster, env, tier);

    /// <summary>As <see cref="TierLookup.SnapshotAsync"/> (same NOT_FOUND and UNAVAILABLE answers), the names from the read cache.</summary>
    private async Task<TierSnapshot> CachedSnapshotAsync(string env, string tier)
    {
        var (found, names) = await reads.ContainsAsync(env, tier);
        if (!found) throw TierLookup.NotFound(env, tier, names);
        return await Tier(env, tier).GetSnapshot() ?? throw TierLookup.NotReported(tier);
    }

    private Task<IReadOnlyList<string>> TierNamesAsync(string env) => cluster.GetGrain<IFleetGrain>(env).ListTiers();

    private ITierGrain Tier(string env, string tier) => cluster.GetGrain<ITierGrain>(FleetKeys.Tier(env, tier));
}
