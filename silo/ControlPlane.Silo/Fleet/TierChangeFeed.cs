using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;

namespace ControlPlane.Silo.Fleet;

/// <summary>
/// The changes of some tiers for one watch call, in a bounded <see cref="WatchBacklog"/>, fed by the silo's
/// <see cref="TierChangeHub"/> (one stream subscription per tier per silo, shared by every watch): a watcher that
/// cannot keep up loses the oldest changes and gets a fresh snapshot instead of unbounded buffering.
/// </summary>
internal sealed class TierChangeFeed : ITierWatcher, IAsyncDisposable
{
    private readonly List<IDisposable> _memberships = [];
    private readonly Dictionary<string, string> _tierOfKey = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private int _dropping;

    private TierChangeFeed(int tiers, ILogger logger)
    {
        Changes = new WatchBacklog(WatchBacklog.CapacityFor(tiers));
        _logger = logger;
    }

    public WatchBacklog Changes { get; }

    /// <summary>Joins the watches of <paramref name="tiers"/> of <paramref name="env"/>; returns once every one is subscribed.</summary>
    public static async Task<TierChangeFeed> OpenAsync(TierChangeHub hub, string env, IReadOnlyCollection<string> tiers, ILogger logger, CancellationToken ct)
    {
        var feed = new TierChangeFeed(tiers.Count, logger);
        // Filled before the first join: the hub may ask for a resync of a joined tier while later ones join.
        foreach (var tier in tiers) feed._tierOfKey[FleetKeys.Tier(env, tier)] = tier;
        try
        {
            foreach (var key in feed._tierOfKey.Keys) feed._memberships.Add(await hub.JoinAsync(key, feed, ct));
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

    void ITierWatcher.Offer(TierChanged change)
    {
        // One line per episode, not per dropped change: a stuck watcher of a busy tier would flood the log.
        if (Changes.Offer(change) && Interlocked.Exchange(ref _dropping, 1) == 0)
        {
            _logger.LogInformation(
                "A watch of tier {Tier} reads too slowly: its buffer of {Capacity} changes is full and the oldest are dropped; it gets a fresh snapshot when it reads again",
                change.Snapshot.Name, Changes.Capacity);
        }
    }

    void ITierWatcher.Resync(string tierKey)
    {
        if (_tierOfKey.TryGetValue(tierKey, out var tier)) Changes.Resync(tier);
    }

    /// <summary>Leaves the tiers' watches (the hub keeps a tier subscribed for a grace period) and ends the reader.</summary>
    public ValueTask DisposeAsync()
    {
        foreach (var membership in _memberships) membership.Dispose();
        Changes.Complete();
        return ValueTask.CompletedTask;
    }
}
