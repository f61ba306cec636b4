using ControlPlane.Postgres.Health;

namespace ControlPlane.Grains.Health;

/// <summary>
/// The fresh-connection checks of one replica that are still open, oldest first. A check against a server that takes
/// no new session lasts its whole deadline; one at a time, <c>failure_threshold</c> consecutive failures took
/// threshold × deadline (4.8 s at the defaults), three times the failure window the tier promises. Started at every
/// probe instead, they end one probe interval apart: the deadline plus (threshold − 1) intervals (2.6 s). A server
/// that opens sessions ends each check at once, so only one is ever open. Checks are collected in the order they
/// started, so "consecutive" keeps its meaning when a younger check ends first. Not thread-safe: one grain owns it.
/// </summary>
public sealed class SessionCheckQueue
{
    /// <summary>Never more than this many open checks per replica, whatever the schedule.</summary>
    public const int MaxInFlight = 8;

    private readonly Queue<Task<SessionCheck>> _inFlight = new();

    public int Count => _inFlight.Count;

    /// <summary>
    /// How many checks may be open at once: as many as start within one deadline at one per probe interval; a
    /// standby known healthy only one (it is checked every tenth probe, to show and to keep it ineligible when it
    /// takes no session).
    /// </summary>
    public static int Capacity(bool knownHealthyStandby, TimeSpan deadline, TimeSpan interval)
    {
        if (knownHealthyStandby || interval <= TimeSpan.Zero) return 1;
        return Math.Clamp((int)Math.Ceiling(deadline / interval), 1, MaxInFlight);
    }

    /// <summary>Starts a check when fewer than <paramref name="capacity"/> are open; false when it did not.</summary>
    public bool TryStart(int capacity, Func<Task<SessionCheck>> start)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (_inFlight.Count >= capacity) return false;
        _inFlight.Enqueue(start());
        return true;
    }

    /// <summary>
    /// The checks that ended, oldest first, after waiting up to <paramref name="wait"/> for the oldest (fast answers
    /// such as a refused port land in the same probe). A younger check that ended waits behind an older one still
    /// open. A check that threw is dropped (it says nothing about the server).
    /// </summary>
    public async Task<IReadOnlyList<SessionCheck>> CollectAsync(TimeSpan wait)
    {
        if (!_inFlight.TryPeek(out var oldest)) return [];
        // Awaited on the caller's context: the grain's, which alone touches the queue (no ConfigureAwait(false)).
        if (!oldest.IsCompleted && wait > TimeSpan.Zero) await Task.WhenAny(oldest, Task.Delay(wait));
        var ended = new List<SessionCheck>();
        while (_inFlight.TryPeek(out var next) && next.IsCompleted)
        {
            _ = _inFlight.Dequeue();
            if (next.IsCompletedSuccessfully) ended.Add(next.Result);
        }
        return ended;
    }

    /// <summary>Forgets every open check (a new endpoint: their answers are about the old one).</summary>
    public void Clear() => _inFlight.Clear();
}
