using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace ControlPlane.Tests.Cli;

/// <summary>A scripted FleetService: fixed tiers, scripted watch events, then silence until cancelled.</summary>
internal sealed class FakeFleetService : FleetService.FleetServiceBase
{
    public const string Environment = "local";

    public static readonly DateTimeOffset ProbedAt = DateTimeOffset.UtcNow;

    public List<Tier> Tiers { get; } = [SampleTier("oltp", 7), SampleTier("queue", 3)];

    /// <summary>Events each WatchTier call sends; defaults to a snapshot of the tier.</summary>
    public Func<string, IReadOnlyList<TierEvent>>? TierScript { get; set; }

    /// <summary>How many first WatchTier calls end with UNAVAILABLE after their script (a silo going away).</summary>
    public int WatchTierCallsToFail { get; set; }

    /// <summary>Incremented on every WatchTier call, so tests can see reconnects.</summary>
    public int WatchTierCalls => watchTierCalls;

    private int watchTierCalls;

    public override Task<ListTiersResponse> ListTiers(ListTiersRequest request, ServerCallContext context)
    {
        var response = new ListTiersResponse { Environment = Environment };
        response.Tiers.AddRange(Tiers);
        return Task.FromResult(response);
    }

    public override Task<Tier> GetTier(GetTierRequest request, ServerCallContext context) =>
        Task.FromResult(Find(request.Tier));

    public override Task<Replica> GetReplica(GetReplicaRequest request, ServerCallContext context)
    {
        var replica = Find(request.Tier).Replicas.FirstOrDefault(r => r.Name == request.Replica)
            ?? throw new RpcException(new Status(
                StatusCode.NotFound,
                $"replica '{request.Replica}' not found in tier '{request.Tier}'"));
        return Task.FromResult(replica);
    }

    public override async Task WatchTier(WatchTierRequest request, IServerStreamWriter<TierEvent> responseStream, ServerCallContext context)
    {
        var call = Interlocked.Increment(ref watchTierCalls);
        var tier = Find(request.Tier);
        var script = TierScript?.Invoke(request.Tier) ?? [Event(tier, TierEventKind.Snapshot, tier.Version)];
        foreach (var tierEvent in script)
        {
            await responseStream.WriteAsync(tierEvent, context.CancellationToken);
        }

        if (call <= WatchTierCallsToFail)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "silo shutting down"));
        }

        await WaitForCancellation(context);
    }

    public override async Task WatchFleet(WatchFleetRequest request, IServerStreamWriter<TierEvent> responseStream, ServerCallContext context)
    {
        foreach (var tier in Tiers)
        {
            await responseStream.WriteAsync(Event(tier, TierEventKind.Snapshot, tier.Version), context.CancellationToken);
        }

        var oltp = Tiers[0];
        await responseStream.WriteAsync(
            Event(oltp, TierEventKind.Change, oltp.Version + 1, "oltp-2: lag 0 B -> 4.0 MiB"),
            context.CancellationToken);
        await WaitForCancellation(context);
    }

    public static TierEvent Event(Tier tier, TierEventKind kind, long version, params string[] changes)
    {
        var state = tier.Clone();
        state.Version = version;
        var tierEvent = new TierEvent
        {
            Kind = kind,
            TierName = tier.Name,
            Version = version,
            Tier = state,
            At = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        };
        tierEvent.Changes.AddRange(changes);
        return tierEvent;
    }

    public static Tier SampleTier(string name, long version)
    {
        var tier = new Tier
        {
            Environment = Environment,
            Name = name,
            Health = TierHealth.Degraded,
            Primary = $"{name}-1",
            Term = 2,
            Version = version,
            HealthReason = $"{name}-2 is lagging",
        };
        tier.Replicas.Add(new Replica
        {
            Environment = Environment,
            Tier = name,
            Name = $"{name}-1",
            Role = ReplicaRole.Primary,
            Healthy = true,
            Reachable = true,
            Connections = 12,
            MaxConnections = 100,
            LastProbeAt = Timestamp.FromDateTimeOffset(ProbedAt),
        });
        tier.Replicas.Add(new Replica
        {
            Environment = Environment,
            Tier = name,
            Name = $"{name}-2",
            Role = ReplicaRole.Standby,
            Healthy = false,
            Reachable = true,
            LagBytes = 4 * 1024 * 1024,
            LagSeconds = 2.5,
            Connections = 3,
            MaxConnections = 100,
            LastProbeAt = Timestamp.FromDateTimeOffset(ProbedAt),
            ConsecutiveFailures = 1,
            Problem = "replay lag above 1 MiB",
        });
        return tier;
    }

    private Tier Find(string name) =>
        Tiers.FirstOrDefault(t => t.Name == name)
        ?? throw new RpcException(new Status(StatusCode.NotFound, $"tier '{name}' not found in environment '{Environment}'"));

    private static async Task WaitForCancellation(ServerCallContext context)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The client went away; that is how a watch ends.
        }
    }
}
