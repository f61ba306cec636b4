using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using Orleans.Streams;

namespace ControlPlane.Silo.Fleet;

/// <summary>
/// Subscribes to the change streams of some tiers for one watch call, into a bounded <see cref="WatchBacklog"/>:
/// a watcher that cannot keep up loses the oldest changes and gets a fresh snapshot instead of unbounded buffering.
/// </summary>
internal sealed class TierChangeFeed : IAsyncDisposable
{
    private readonly List<StreamSubscriptionHandle<TierChanged>> _handles = [];
    private readonly ILogger _logger;
    private int _dropping;

    private TierChangeFeed(int tiers, ILogger logger)
    {
        Changes = new WatchBacklog(WatchBacklog.CapacityFor(tiers));
        _logger = logger;
    }

    public WatchBacklog Changes { get; }

    public static async Task<TierChangeFeed> OpenAsync(IClusterClient client, IReadOnlyCollection<string> tierKeys, ILogger logger)
    {
        var feed = new TierChangeFeed(tierKeys.Count, logger);
        var provider = client.GetStreamProvider(FleetKeys.StreamProvider);
        try
        {
            foreach (var key in tierKeys)
            {
                var stream = provider.GetStream<TierChanged>(StreamId.Create(FleetKeys.TierStreamNamespace, key));
                feed._handles.Add(await stream.SubscribeAsync((change, _) =>
                {
                    feed.Offer(change);
                    return Task.CompletedTask;
                }));
            }
            return feed;
        }
        catch
        {
            await feed.DisposeAsync();
            throw;
        }
    }

    /// <summary>The reader caught up (sent a resync): the next drop starts a new episode worth a log line.</summary>
    public void Resynced() => Volatile.Write(ref _dropping, 0);

    private void Offer(TierChanged change)
    {
        // One line per episode, not per dropped change: a stuck watcher of a busy tier would flood the log.
        if (Changes.Offer(change) && Interlocked.Exchange(ref _dropping, 1) == 0)
        {
            _logger.LogInformation(
                "A watch of tier {Tier} reads too slowly: its buffer of {Capacity} changes is full and the oldest are dropped; it gets a fresh snapshot when it reads again",
                change.Snapshot.Name, Changes.Capacity);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Changes.Complete();
        foreach (var handle in _handles)
        {
            try
            {
                await handle.UnsubscribeAsync();
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                // The pub-sub grain is moving; the subscription dies with the silo or is cleaned on its next delivery.
            }
        }
    }
}
