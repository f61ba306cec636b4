using System.Threading.Channels;
using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using Orleans.Streams;

namespace ControlPlane.Silo.Fleet;

/// <summary>
/// Subscribes to the change streams of some tiers for one watch call. Bounded: a watcher that cannot keep up
/// loses the oldest changes, sees a version gap, and gets a fresh snapshot instead of unbounded buffering.
/// </summary>
internal sealed class TierChangeFeed : IAsyncDisposable
{
    private const int Capacity = 256;
    private readonly Channel<TierChanged> _channel = Channel.CreateBounded<TierChanged>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private readonly List<StreamSubscriptionHandle<TierChanged>> _handles = [];

    private TierChangeFeed()
    {
    }

    public ChannelReader<TierChanged> Changes => _channel.Reader;

    public static async Task<TierChangeFeed> OpenAsync(IClusterClient client, IEnumerable<string> tierKeys)
    {
        var feed = new TierChangeFeed();
        var provider = client.GetStreamProvider(FleetKeys.StreamProvider);
        try
        {
            foreach (var key in tierKeys)
            {
                var stream = provider.GetStream<TierChanged>(StreamId.Create(FleetKeys.TierStreamNamespace, key));
                feed._handles.Add(await stream.SubscribeAsync((change, _) =>
                {
                    feed._channel.Writer.TryWrite(change);
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

    public async ValueTask DisposeAsync()
    {
        _channel.Writer.TryComplete();
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
