using ControlPlane.Grains.Health;
using ControlPlane.Silo.Fleet;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ControlPlane.Tests.Fleet;

/// <summary>
/// The silo's fan-out of tier changes (docs/fleet.md "One subscription per tier per silo"): the bookkeeping of who
/// watches which tier and of the one subscription behind them, over a source and a clock the test drives.
/// </summary>
public sealed class TierChangeHubTests
{
    private const string Oltp = "local/oltp";
    private const string Queue = "local/queue";

    private readonly ScriptedSource _source = new();
    private readonly ManualClock _clock = new();
    private readonly TierChangeHub _hub;

    public TierChangeHubTests() => _hub = new TierChangeHub(_source, _clock, NullLogger<TierChangeHub>.Instance);

    private static TierChanged Change(string tier, long version) =>
        new(version, [$"v{version}"], new TierSnapshot("local", tier, TierHealth.Healthy, "", $"{tier}-1", 1, version, [], DateTimeOffset.UnixEpoch));

    [Fact]
    public async Task Concurrent_first_watchers_of_a_tier_share_one_subscription_and_all_wait_for_it()
    {
        var watchers = Enumerable.Range(0, 200).Select(_ => new RecordingWatcher()).ToList();
        var joins = watchers.Select(w => Task.Run(() => _hub.JoinAsync(Oltp, w, CancellationToken.None))).ToList();
        await _source.WaitForSubscribeCallsAsync(Oltp, 1);
        while (_hub.Watchers(Oltp) < watchers.Count) await Task.Yield();
        Assert.DoesNotContain(joins, j => j.IsCompleted);

        _source.Complete(Oltp);
        await Task.WhenAll(joins);
        Assert.Equal(1, _source.SubscribeCalls(Oltp));
        Assert.Equal(1, _hub.Subscriptions);
    }

    [Fact]
    public async Task One_change_reaches_every_watcher_of_its_tier_as_the_same_object_and_no_watcher_of_another()
    {
        _source.SucceedImmediately = true;
        var oltp = Enumerable.Range(0, 5).Select(_ => new RecordingWatcher()).ToList();
        var queue = new RecordingWatcher();
        foreach (var w in oltp) await _hub.JoinAsync(Oltp, w, CancellationToken.None);
        await _hub.JoinAsync(Queue, queue, CancellationToken.None);

        var change = Change("oltp", 7);
        _source.Publish(Oltp, change);
        Assert.All(oltp, w => Assert.Same(change, Assert.Single(w.Changes)));
        Assert.Empty(queue.Changes);
    }

    [Fact]
    public async Task Changes_reach_a_watcher_in_the_order_the_subscription_delivers_them()
    {
        _source.SucceedImmediately = true;
        var watcher = new RecordingWatcher();
        await _hub.JoinAsync(Oltp, watcher, CancellationToken.None);
        for (var v = 1; v <= 50; v++) _source.Publish(Oltp, Change("oltp", v));
        Assert.Equal(Enumerable.Range(1, 50).Select(v => (long)v), watcher.Changes.Select(c => c.Version));
    }

    [Fact]
    public async Task A_watcher_that_left_gets_no_more_changes_while_the_others_do()
    {
        _source.SucceedImmediately = true;
        var (staying, leaving) = (new RecordingWatcher(), new RecordingWatcher());
        await _hub.JoinAsync(Oltp, staying, CancellationToken.None);
        var membership = await _hub.JoinAsync(Oltp, leaving, CancellationToken.None);
        membership.Dispose();
        membership.Dispose(); // leaving twice is leaving once

        _source.Publish(Oltp, Change("oltp", 1));
        Assert.Single(staying.Changes);
        Assert.Empty(leaving.Changes);
        Assert.Equal(1, _hub.Watchers(Oltp));
    }

    [Fact]
    public async Task A_failed_first_subscription_fails_the_waiting_watchers_and_the_next_watch_subscribes_again()
    {
        var waiting = new[] { new RecordingWatcher(), new RecordingWatcher() };
        var joins = waiting.Select(w => _hub.JoinAsync(Oltp, w, CancellationToken.None)).ToList();
        await _source.WaitForSubscribeCallsAsync(Oltp, 1);
        _source.Fail(Oltp, new TimeoutException("pub-sub grain did not answer"));
        foreach (var join in joins) await Assert.ThrowsAsync<TimeoutException>(() => join);
        Assert.Equal(0, _hub.Subscriptions);

        _source.SucceedImmediately = true;
        var next = new RecordingWatcher();
        await _hub.JoinAsync(Oltp, next, CancellationToken.None);
        Assert.Equal(2, _source.SubscribeCalls(Oltp));
        _source.Publish(Oltp, Change("oltp", 1));
        Assert.Single(next.Changes);
        Assert.All(waiting, w => Assert.Empty(w.Changes));
    }

    [Fact]
    public async Task A_lost_subscription_is_made_again_after_a_backoff_and_every_watcher_of_the_tier_resyncs_after_it()
    {
        _source.SucceedImmediately = true;
        var watchers = Enumerable.Range(0, 3).Select(_ => new RecordingWatcher()).ToList();
        foreach (var w in watchers) await _hub.JoinAsync(Oltp, w, CancellationToken.None);
        var other = new RecordingWatcher();
        await _hub.JoinAsync(Queue, other, CancellationToken.None);

        _source.RaiseError(Oltp, new InvalidOperationException("stream faulted"));
        Assert.Equal(1, _source.Unsubscribed(Oltp));
        _source.Publish(Oltp, Change("oltp", 5), call: 0); // a late delivery of the lost subscription
        Assert.All(watchers, w => Assert.Empty(w.Changes));
        Assert.Equal(1, _source.SubscribeCalls(Oltp));

        await _clock.WaitForTimersAsync(1);
        _clock.Advance(TierChangeHub.Backoff(0));
        await _source.WaitForSubscribeCallsAsync(Oltp, 2);
        await WaitUntilAsync(() => watchers.All(w => w.Resyncs.Count == 1));
        Assert.All(watchers, w => Assert.Equal(Oltp, Assert.Single(w.Resyncs)));
        Assert.Empty(other.Resyncs);

        _source.Publish(Oltp, Change("oltp", 6));
        Assert.All(watchers, w => Assert.Equal(6, Assert.Single(w.Changes).Version));
    }

    [Fact]
    public async Task A_resubscription_that_fails_is_tried_again_with_a_longer_backoff()
    {
        _source.SucceedImmediately = true;
        var watcher = new RecordingWatcher();
        await _hub.JoinAsync(Oltp, watcher, CancellationToken.None);
        _source.SucceedImmediately = false;
        _source.RaiseError(Oltp, new InvalidOperationException("stream faulted"));

        await _clock.WaitForTimersAsync(1);
        _clock.Advance(TierChangeHub.Backoff(0));
        await _source.WaitForSubscribeCallsAsync(Oltp, 2);
        _source.Fail(Oltp, new TimeoutException("pub-sub grain did not answer"));
        await _clock.WaitForTimersAsync(1);
        _clock.Advance(TierChangeHub.Backoff(1) - TimeSpan.FromTicks(1));
        Assert.Equal(2, _source.SubscribeCalls(Oltp));
        Assert.Empty(watcher.Resyncs);

        _clock.Advance(TimeSpan.FromTicks(1));
        await _source.WaitForSubscribeCallsAsync(Oltp, 3);
        _source.Complete(Oltp);
        await WaitUntilAsync(() => watcher.Resyncs.Count == 1);
    }

    [Fact]
    public void The_backoff_doubles_from_200_ms_up_to_10_s()
    {
        Assert.Equal(
            new[] { 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000 }.Select(ms => TimeSpan.FromMilliseconds(ms)),
            Enumerable.Range(0, 8).Select(TierChangeHub.Backoff));
        Assert.Equal(TimeSpan.FromSeconds(10), TierChangeHub.Backoff(int.MaxValue));
    }

    [Fact]
    public async Task The_last_watcher_leaving_ends_the_subscription_only_after_the_grace_period()
    {
        _source.SucceedImmediately = true;
        var membership = await _hub.JoinAsync(Oltp, new RecordingWatcher(), CancellationToken.None);
        membership.Dispose();
        await _clock.WaitForTimersAsync(1);
        _clock.Advance(TierChangeHub.Grace - TimeSpan.FromTicks(1));
        Assert.Equal(0, _source.Unsubscribed(Oltp));
        Assert.Equal(1, _hub.Subscriptions);

        _clock.Advance(TimeSpan.FromTicks(1));
        await WaitUntilAsync(() => _source.Unsubscribed(Oltp) == 1);
        Assert.Equal(0, _hub.Subscriptions);

        await _hub.JoinAsync(Oltp, new RecordingWatcher(), CancellationToken.None);
        Assert.Equal(2, _source.SubscribeCalls(Oltp));
    }

    [Fact]
    public async Task A_watcher_returning_within_the_grace_period_keeps_the_one_subscription()
    {
        _source.SucceedImmediately = true;
        (await _hub.JoinAsync(Oltp, new RecordingWatcher(), CancellationToken.None)).Dispose();
        await _clock.WaitForTimersAsync(1);
        var returning = new RecordingWatcher();
        await _hub.JoinAsync(Oltp, returning, CancellationToken.None);
        _clock.Advance(TierChangeHub.Grace * 2);
        await Task.Delay(50); // room for the expired grace period's continuation, which must find the tier watched

        Assert.Equal(0, _source.Unsubscribed(Oltp));
        Assert.Equal(1, _source.SubscribeCalls(Oltp));
        _source.Publish(Oltp, Change("oltp", 1));
        Assert.Single(returning.Changes);
    }

    [Fact]
    public async Task A_watcher_whose_call_is_cancelled_while_waiting_for_the_subscription_leaves_the_tier()
    {
        using var cts = new CancellationTokenSource();
        var join = _hub.JoinAsync(Oltp, new RecordingWatcher(), cts.Token);
        await _source.WaitForSubscribeCallsAsync(Oltp, 1);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => join);
        Assert.Equal(0, _hub.Watchers(Oltp));
    }

    [Fact]
    public async Task Stopping_the_hub_ends_every_subscription_and_refuses_new_watchers()
    {
        _source.SucceedImmediately = true;
        await _hub.JoinAsync(Oltp, new RecordingWatcher(), CancellationToken.None);
        await _hub.JoinAsync(Queue, new RecordingWatcher(), CancellationToken.None);

        await _hub.StopAsync(CancellationToken.None);
        Assert.Equal(1, _source.Unsubscribed(Oltp));
        Assert.Equal(1, _source.Unsubscribed(Queue));
        await Assert.ThrowsAsync<TimeoutException>(() => _hub.JoinAsync(Oltp, new RecordingWatcher(), CancellationToken.None));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition()) await Task.Delay(5, cts.Token);
    }

    private sealed class RecordingWatcher : ITierWatcher
    {
        private readonly List<TierChanged> _changes = [];
        private readonly List<string> _resyncs = [];

        public IReadOnlyList<TierChanged> Changes
        {
            get
            {
                lock (_changes) return [.. _changes];
            }
        }

        public IReadOnlyList<string> Resyncs
        {
            get
            {
                lock (_resyncs) return [.. _resyncs];
            }
        }

        public void Offer(TierChanged change)
        {
            lock (_changes) _changes.Add(change);
        }

        public void Resync(string tierKey)
        {
            lock (_resyncs) _resyncs.Add(tierKey);
        }
    }

    /// <summary>
    /// A stream stand-in: each subscribe call waits until the test completes or fails it (or succeeds at once);
    /// the test publishes to and raises errors on the subscriptions made.
    /// </summary>
    private sealed class ScriptedSource : ITierChangeSource
    {
        private readonly object _lock = new();
        private readonly List<Call> _calls = [];

        public bool SucceedImmediately { get; set; }

        public Task<IAsyncDisposable> SubscribeAsync(string tierKey, Action<TierChanged> onChange, Action<Exception> onError, CancellationToken ct)
        {
            var call = new Call(tierKey, onChange, onError);
            lock (_lock) _calls.Add(call);
            if (SucceedImmediately) call.Result.SetResult(call);
            return call.Result.Task;
        }

        public int SubscribeCalls(string key) => CallsOf(key).Count;

        public int Unsubscribed(string key) => CallsOf(key).Count(c => c.Disposed);

        public async Task WaitForSubscribeCallsAsync(string key, int count) => await WaitUntilAsync(() => SubscribeCalls(key) >= count);

        public void Complete(string key) => CallsOf(key)[^1].Result.SetResult(CallsOf(key)[^1]);

        public void Fail(string key, Exception ex) => CallsOf(key)[^1].Result.SetException(ex);

        /// <summary>A change on the latest subscription (or the one made by subscribe call <paramref name="call"/>).</summary>
        public void Publish(string key, TierChanged change, int? call = null) => CallsOf(key)[call ?? ^1].OnChange(change);

        public void RaiseError(string key, Exception ex) => CallsOf(key)[^1].OnError(ex);

        private List<Call> CallsOf(string key)
        {
            lock (_lock) return _calls.Where(c => c.Key == key).ToList();
        }

        private sealed class Call(string key, Action<TierChanged> onChange, Action<Exception> onError) : IAsyncDisposable
        {
            public string Key { get; } = key;
            public Action<TierChanged> OnChange { get; } = onChange;
            public Action<Exception> OnError { get; } = onError;
            public TaskCompletionSource<IAsyncDisposable> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
            public bool Disposed { get; private set; }

            public ValueTask DisposeAsync()
            {
                Disposed = true;
                return ValueTask.CompletedTask;
            }
        }
    }

    /// <summary>A clock whose timers fire only when the test advances it.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private readonly object _lock = new();
        private readonly List<ManualTimer> _timers = [];
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp()
        {
            lock (_lock) return _ticks;
        }

        public override DateTimeOffset GetUtcNow() => DateTimeOffset.UnixEpoch.AddTicks(GetTimestamp());

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new ManualTimer(this, callback, state);
            timer.Change(dueTime, period);
            return timer;
        }

        /// <summary>Waits until at least <paramref name="count"/> timers are pending.</summary>
        public Task WaitForTimersAsync(int count) => WaitUntilAsync(() =>
        {
            lock (_lock) return _timers.Count(t => t.Due is not null) >= count;
        });

        public void Advance(TimeSpan by)
        {
            List<ManualTimer> due;
            lock (_lock)
            {
                _ticks += by.Ticks;
                due = _timers.Where(t => t.Due <= _ticks).ToList();
                foreach (var timer in due) timer.Due = null;
            }
            foreach (var timer in due) timer.Fire();
        }

        private sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
        {
            public long? Due { get; set; }

            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                lock (clock._lock)
                {
                    Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock._ticks + dueTime.Ticks;
                    if (!clock._timers.Contains(this)) clock._timers.Add(this);
                }
                return true;
            }

            public void Fire() => callback(state);

            public void Dispose()
            {
                lock (clock._lock) clock._timers.Remove(this);
            }

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
