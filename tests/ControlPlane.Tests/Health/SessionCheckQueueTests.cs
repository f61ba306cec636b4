using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Health;
using Xunit;

namespace ControlPlane.Tests.Health;

/// <summary>The fresh-connection checks of a replica: how many may be open, and that they are counted in the order they started.</summary>
public sealed class SessionCheckQueueTests
{
    private static readonly SessionCheck TimedOut = new(SessionOutcome.SessionTimedOut, TimeSpan.FromSeconds(1.6), "connected but no session within 1.6s");
    private static readonly SessionCheck Opened = new(SessionOutcome.Opened, TimeSpan.FromMilliseconds(3), null);

    [Theory]
    // The defaults: a 1.6 s deadline at 500 ms probes → one started at every probe, four open at most.
    [InlineData(false, 1600, 500, 4)]
    [InlineData(false, 400, 500, 1)]
    [InlineData(false, 1000, 500, 2)]
    // A known, healthy standby is checked one at a time.
    [InlineData(true, 1600, 500, 1)]
    // Never more than eight, whatever the schedule.
    [InlineData(false, 60000, 100, SessionCheckQueue.MaxInFlight)]
    [InlineData(false, 1600, 0, 1)]
    public void Capacity_is_as_many_checks_as_start_within_one_deadline(bool standby, int deadlineMs, int intervalMs, int expected) =>
        Assert.Equal(expected, SessionCheckQueue.Capacity(standby, TimeSpan.FromMilliseconds(deadlineMs), TimeSpan.FromMilliseconds(intervalMs)));

    [Fact]
    public void No_check_starts_beyond_the_capacity()
    {
        var queue = new SessionCheckQueue();
        var started = 0;
        for (var i = 0; i < 5; i++) queue.TryStart(3, () => { started++; return new TaskCompletionSource<SessionCheck>().Task; });
        Assert.Equal(3, started);
        Assert.Equal(3, queue.Count);
    }

    [Fact]
    public async Task A_younger_check_that_ended_waits_behind_an_older_one_still_open()
    {
        var queue = new SessionCheckQueue();
        var older = new TaskCompletionSource<SessionCheck>();
        var younger = new TaskCompletionSource<SessionCheck>();
        queue.TryStart(4, () => older.Task);
        queue.TryStart(4, () => younger.Task);
        younger.SetResult(Opened);
        Assert.Empty(await queue.CollectAsync(TimeSpan.Zero));
        older.SetResult(TimedOut);
        // Oldest first: a failure then a success, so the consecutive count ends at zero.
        Assert.Equal([TimedOut, Opened], await queue.CollectAsync(TimeSpan.Zero));
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public async Task Checks_of_a_server_that_takes_no_session_end_one_probe_apart_and_each_counts()
    {
        // A frozen postmaster: every check lasts its deadline; started one per probe, they end one per probe.
        var queue = new SessionCheckQueue();
        var checks = Enumerable.Range(0, 4).Select(_ => new TaskCompletionSource<SessionCheck>()).ToList();
        foreach (var c in checks) queue.TryStart(4, () => c.Task);
        var failures = 0;
        foreach (var c in checks)
        {
            c.SetResult(TimedOut);
            failures += (await queue.CollectAsync(TimeSpan.Zero)).Count(s => s.CannotOpenSession);
        }
        Assert.Equal(4, failures);
    }

    [Fact]
    public async Task A_check_that_threw_is_dropped_and_the_wait_is_bounded()
    {
        var queue = new SessionCheckQueue();
        queue.TryStart(2, () => Task.FromException<SessionCheck>(new InvalidOperationException("disposed")));
        var open = new TaskCompletionSource<SessionCheck>();
        queue.TryStart(2, () => open.Task);
        Assert.Empty(await queue.CollectAsync(TimeSpan.FromMilliseconds(20)));
        Assert.Equal(1, queue.Count);
        queue.Clear();
        Assert.Equal(0, queue.Count);
        Assert.Empty(await queue.CollectAsync(TimeSpan.FromSeconds(5)));
    }
}
