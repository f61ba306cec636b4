using ControlPlane.Grains.Health;

namespace ControlPlane.Silo.Fleet;

/// <summary>What the hub hands a tier's changes to: one open watch (its <see cref="TierChangeFeed"/>).</summary>
internal interface ITierWatcher
{
    /// <summary>A change of the tier; must not block (the watch buffers it or drops its oldest).</summary>
    void Offer(TierChanged change);

    /// <summary>Changes of the tier may have been missed (its subscription was lost): send a fresh snapshot.</summary>
    void Resync(string tierKey);
}

/// <summary>
/// One subscription to each watched tier's change stream per silo, fanned out in memory to every open watch of that
/// tier. Why: a stream subscription is a <c>RegisterConsumer</c> call on the stream's one pub-sub grain, which handles
/// them one at a time and rewrites its consumer set each time, so a thousand watches subscribing each for itself queued
/// past Orleans' response timeout (bench/BENCHMARKS.md, "Watchers"). Here a thousand watches of a tier cost one
/// consumer, and each change is one object handed to every watch's bounded <see cref="WatchBacklog"/>.
/// <list type="bullet">
/// <item>The first watch of a tier starts the subscription; watches joining meanwhile await the same task. A watch is
/// on the tier's list before that task completes, and reads its snapshot after, so no change falls between the
/// two. A failed first subscription fails the watches awaiting it and is forgotten: the next watch tries again.</item>
/// <item>A subscription that reports an error is dropped (its late deliveries ignored), made again with backoff, and
/// then every watch of the tier is told to resync: it sends a snapshot if the tier moved meanwhile, so no watch
/// silently misses a change that was published while no subscription was live.</item>
/// <item>The last watch leaving starts a grace period; the tier is unsubscribed only if no watch joined by its end,
/// so clients that reconnect in a loop do not churn the pub-sub grain.</item>
/// <item>Order: the stream delivers one change at a time per subscription and the hub hands it to every watch
/// before returning, so each watch sees a tier's changes in the order published.</item>
/// <item>Silo shutdown (<see cref="StopAsync"/>, before Orleans stops): new watches are refused, retries stop, the
/// subscriptions are ended (bounded wait); open watches end with the gateway.</item>
/// </list>
/// </summary>
internal sealed class TierChangeHub(ITierChangeSource source, TimeProvider time, ILogger<TierChangeHub> logger) : IHostedService, IDisposable
{
    /// <summary>How long a tier stays subscribed after its last watch left.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(5);

    private readonly object _lock = new();
    private readonly Dictionary<string, Topic> _topics = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private bool _stopped;

    /// <summary>The wait before resubscription attempt <paramref name="attempt"/> (0 first): doubling, with a ceiling.</summary>
    public static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, FirstBackoff.Ticks << Math.Clamp(attempt, 0, 20)));

    /// <summary>Tiers with a subscription (live, being made, or in its grace period).</summary>
    public int Subscriptions
    {
        get
        {
            lock (_lock) return _topics.Count;
        }
    }

    /// <summary>Open watches of <paramref name="tierKey"/> on this silo.</summary>
    public int Watchers(string tierKey)
    {
        lock (_lock) return _topics.TryGetValue(tierKey, out var topic) ? topic.Watchers.Length : 0;
    }

    /// <summary>
    /// Adds <paramref name="watcher"/> to the tier's watches; returns once the tier's subscription is live (made now
    /// if this is the tier's first watch). Dispose the result to leave.
    /// </summary>
    public async Task<IDisposable> JoinAsync(string tierKey, ITierWatcher watcher, CancellationToken ct)
    {
        Topic topic;
        var first = false;
        lock (_lock)
        {
            if (_stopped) throw new TimeoutException("the silo is shutting down; watch another silo or retry");
            if (!_topics.TryGetValue(tierKey, out topic!))
            {
                topic = new Topic(tierKey);
                _topics.Add(tierKey, topic);
                first = true;
            }
            topic.Watchers = [.. topic.Watchers, watcher];
            topic.GraceEpoch++; // a pending grace period no longer ends the subscription
        }
        if (first) _ = SubscribeFirstAsync(topic);
        var membership = new Membership(this, topic, watcher);
        try
        {
            await topic.Subscribed.Task.WaitAsync(ct);
        }
        catch
        {
            membership.Dispose();
            throw;
        }
        return membership;
    }

    /// <summary>
    /// The failure path: the tier's subscription stopped delivering (the stream reported an error). Ignored unless
    /// <paramref name="generation"/> is the live subscription's (null: whichever is live).
    /// </summary>
    public void SubscriptionLost(string tierKey, Exception error, long? generation = null)
    {
        IAsyncDisposable? old;
        Topic? topic;
        lock (_lock)
        {
            if (!_topics.TryGetValue(tierKey, out topic) || !topic.Live || (generation is { } g && g != topic.Generation)) return;
            topic.Generation++; // late deliveries of the lost subscription are dropped from here on
            topic.Live = false;
            old = topic.Handle;
            topic.Handle = null;
        }
        logger.LogWarning("The subscription of this silo's watches to tier {Tier}'s changes was lost ({Error}); subscribing again, then its {Watchers} watches resync",
            tierKey, error.Message, topic.Watchers.Length);
        _ = ResubscribeAsync(topic, old);
    }

    private async Task SubscribeFirstAsync(Topic topic)
    {
        long generation;
        lock (_lock) generation = topic.Generation;
        try
        {
            var handle = await SubscribeAsync(topic, generation);
            if (!Attach(topic, handle)) await EndAsync(topic.Key, handle);
            topic.Subscribed.TrySetResult();
        }
        catch (Exception ex)
        {
            lock (_lock)
            {
                if (_topics.TryGetValue(topic.Key, out var current) && current == topic) _topics.Remove(topic.Key);
                topic.Retired = true;
            }
            logger.LogWarning("This silo could not subscribe to tier {Tier}'s changes ({Error}); its {Watchers} waiting watches fail, the next one tries again",
                topic.Key, ex.Message, topic.Watchers.Length);
            topic.Subscribed.TrySetException(ex);
        }
    }

    private async Task ResubscribeAsync(Topic topic, IAsyncDisposable? old)
    {
        if (old is not null) await EndAsync(topic.Key, old);
        for (var attempt = 0; ; attempt++)
        {
            long generation;
            lock (_lock)
            {
                if (topic.Retired) return;
                generation = topic.Generation;
            }
            try
            {
                await Task.Delay(Backoff(attempt), time, _stopping.Token);
                var handle = await SubscribeAsync(topic, generation);
                if (!Attach(topic, handle))
                {
                    await EndAsync(topic.Key, handle);
                    return;
                }
                var watchers = topic.Watchers;
                // Subscribed first, then each watch re-reads the tier: a change published meanwhile is in one or the other.
                foreach (var watcher in watchers) watcher.Resync(topic.Key);
                logger.LogInformation("Subscribed again to tier {Tier}'s changes after {Attempts} attempts; {Watchers} watches resync",
                    topic.Key, attempt + 1, watchers.Length);
                return;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning("Subscribing again to tier {Tier}'s changes failed ({Error}); next attempt in {Backoff}",
                    topic.Key, ex.Message, Backoff(attempt + 1));
            }
        }
    }

    private Task<IAsyncDisposable> SubscribeAsync(Topic topic, long generation) =>
        source.SubscribeAsync(topic.Key, change => Deliver(topic, generation, change), ex => SubscriptionLost(topic.Key, ex, generation), _stopping.Token);

    /// <summary>Makes <paramref name="handle"/> the tier's live subscription; false when the tier was retired meanwhile.</summary>
    private bool Attach(Topic topic, IAsyncDisposable handle)
    {
        lock (_lock)
        {
            if (topic.Retired) return false;
            topic.Handle = handle;
            topic.Live = true;
            return true;
        }
    }

    private static void Deliver(Topic topic, long generation, TierChanged change)
    {
        if (Volatile.Read(ref topic.Generation) != generation) return;
        // The array is never changed in place: a watch joining or leaving during this loop changes the next delivery, not this one.
        foreach (var watcher in topic.Watchers) watcher.Offer(change);
    }

    private void Leave(Topic topic, ITierWatcher watcher)
    {
        long epoch;
        lock (_lock)
        {
            topic.Watchers = Without(topic.Watchers, watcher);
            if (topic.Watchers.Length > 0 || topic.Retired) return;
            epoch = ++topic.GraceEpoch;
        }
        _ = RetireAfterGraceAsync(topic, epoch);
    }

    private static ITierWatcher[] Without(ITierWatcher[] watchers, ITierWatcher watcher)
    {
        var at = Array.IndexOf(watchers, watcher);
        return at < 0 ? watchers : [.. watchers[..at], .. watchers[(at + 1)..]];
    }

    private async Task RetireAfterGraceAsync(Topic topic, long epoch)
    {
        try
        {
            await Task.Delay(Grace, time, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return; // shutting down: StopAsync ends every subscription
        }
        IAsyncDisposable? handle;
        lock (_lock)
        {
            if (topic.GraceEpoch != epoch || topic.Watchers.Length > 0 || topic.Retired) return;
            topic.Retired = true;
            topic.Generation++;
            _topics.Remove(topic.Key);
            handle = topic.Handle;
            topic.Handle = null;
        }
        if (handle is not null) await EndAsync(topic.Key, handle);
    }

    private async Task EndAsync(string tierKey, IAsyncDisposable handle)
    {
        try
        {
            await handle.DisposeAsync().AsTask().WaitAsync(StopWait);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            // The pub-sub grain is moving or gone: the subscription dies with it or is cleaned on its next delivery.
            logger.LogDebug("Unsubscribing from tier {Tier}'s changes did not finish: {Error}", tierKey, ex.Message);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        List<IAsyncDisposable> handles = [];
        lock (_lock)
        {
            _stopped = true;
            foreach (var topic in _topics.Values)
            {
                topic.Retired = true;
                topic.Generation++;
                if (topic.Handle is { } handle) handles.Add(handle);
                topic.Handle = null;
            }
            _topics.Clear();
        }
        await _stopping.CancelAsync();
        await Task.WhenAll(handles.Select(h => EndAsync("(shutdown)", h)));
    }

    public void Dispose() => _stopping.Dispose();

    /// <summary>One watched tier: its watches and its subscription. Fields are guarded by the hub's lock.</summary>
    private sealed class Topic(string key)
    {
        public string Key { get; } = key;
        public TaskCompletionSource Subscribed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        /// <summary>Replaced, never changed in place (copy on write): a delivery reads it without the lock.</summary>
        public volatile ITierWatcher[] Watchers = [];
        public IAsyncDisposable? Handle;
        public long Generation;
        public long GraceEpoch;
        public bool Live;
        public bool Retired;
    }

    private sealed class Membership(TierChangeHub hub, Topic topic, ITierWatcher watcher) : IDisposable
    {
        private int _left;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _left, 1) == 0) hub.Leave(topic, watcher);
        }
    }
}
