using ControlPlane.Client;
using ControlPlane.Client.Fleet;
using ControlPlane.Protos.V1;
using Xunit;

namespace ControlPlane.Tests.Cli;

/// <summary>The client library's tier watch against the fake FleetService.</summary>
public sealed class TierWatchTests
{
    private static readonly TierWatchOptions Fast = new()
    {
        InitialBackoff = TimeSpan.FromMilliseconds(10),
        MaxBackoff = TimeSpan.FromMilliseconds(50),
    };

    private static async Task<List<TierEvent>> TakeAsync(TierWatch watch, string tier, int count)
    {
        using var done = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var events = new List<TierEvent>();
        await foreach (var tierEvent in watch.WatchTierAsync(tier, done.Token))
        {
            events.Add(tierEvent);
            if (events.Count == count)
            {
                break;
            }
        }

        return events;
    }

    [Fact]
    public async Task A_version_gap_is_healed_with_a_fresh_snapshot_and_stale_changes_are_dropped()
    {
        var service = new FakeFleetService();
        var current = service.Tiers[0];
        current.Version = 11;
        var old = FakeFleetService.SampleTier("oltp", 7);
        service.TierScript = _ =>
        [
            FakeFleetService.Event(old, TierEventKind.Snapshot, 7),
            FakeFleetService.Event(old, TierEventKind.Change, 8, "a"),
            FakeFleetService.Event(old, TierEventKind.Change, 10, "c"),
            FakeFleetService.Event(old, TierEventKind.Change, 11, "d"),
            FakeFleetService.Event(old, TierEventKind.Change, 12, "e"),
        ];
        await using var server = await FakeFleetServer.StartAsync(service);
        using var client = new ControlPlaneClient(new Uri(server.Endpoint));

        var events = await TakeAsync(client.WatchTiers(options: Fast), "oltp", 4);

        Assert.Equal(
            [(TierEventKind.Snapshot, 7L), (TierEventKind.Change, 8L), (TierEventKind.Snapshot, 11L), (TierEventKind.Change, 12L)],
            events.Select(e => (e.Kind, e.Version)));
        Assert.Equal(11, events[2].Tier.Version);
    }

    [Fact]
    public async Task An_unavailable_gateway_is_reconnected_and_the_new_snapshot_delivered()
    {
        var service = new FakeFleetService { WatchTierCallsToFail = 1 };
        await using var server = await FakeFleetServer.StartAsync(service);
        using var client = new ControlPlaneClient(new Uri(server.Endpoint));
        var reconnects = 0;

        var events = await TakeAsync(
            client.WatchTiers(options: Fast with { OnReconnecting = (_, _) => reconnects++ }),
            "oltp",
            2);

        Assert.Equal([TierEventKind.Snapshot, TierEventKind.Snapshot], events.Select(e => e.Kind));
        Assert.Equal(2, service.WatchTierCalls);
        Assert.Equal(1, reconnects);
    }

    [Fact]
    public async Task Not_found_is_not_retried()
    {
        await using var server = await FakeFleetServer.StartAsync();
        using var client = new ControlPlaneClient(new Uri(server.Endpoint));

        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => TakeAsync(client.WatchTiers(options: Fast), "nope", 1));

        Assert.Equal(Grpc.Core.StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public void Backoff_grows_exponentially_up_to_the_cap()
    {
        var watch = new TierWatch(null!, options: new TierWatchOptions
        {
            InitialBackoff = TimeSpan.FromSeconds(1),
            MaxBackoff = TimeSpan.FromSeconds(8),
        });

        Assert.InRange(watch.Backoff(0).TotalSeconds, 0.8, 1.2);
        Assert.InRange(watch.Backoff(2).TotalSeconds, 3.2, 4.8);
        Assert.InRange(watch.Backoff(30).TotalSeconds, 6.4, 9.6);
    }
}
