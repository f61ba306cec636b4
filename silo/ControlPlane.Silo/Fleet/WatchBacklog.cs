using System.Threading.Channels;
using ControlPlane.Grains.Health;

namespace ControlPlane.Silo.Fleet;

/// <summary>
/// The bounded buffer between the tiers' change streams and one watch's gRPC stream. The stream side only ever
/// <see cref="Offer"/>s (never waits), so a watcher that reads slowly or not at all cannot hold up the delivery to
/// the others; when full, the oldest change is dropped and its tier remembered as <em>lost</em>. The reader is
/// handed a <see cref="WatchItem.Resync"/> for a lost tier before any further change: it answers with a fresh
/// snapshot (the resync marker clients already handle), so a dropped change is never silently forgotten, even for a
/// tier that changes no more (where no later version gap would ever show it). The same marker is how the silo's
/// <see cref="TierChangeHub"/> asks for a snapshot after its subscription to a tier was lost and made again
/// (<see cref="WatchBacklog.Resync"/>).
/// </summary>
internal sealed class WatchBacklog
{
    /// <summary>Changes buffered per watched tier: each is a full tier, so this bounds a slow watcher's memory.</summary>
    public const int ChangesPerTier = 32;

    /// <summary>Ceiling for a watch of many tiers (<c>WatchFleet</c>).</summary>
    public const int MaxCapacity = 1024;

    private readonly Channel<WatchItem> _changes;
    private readonly object _lostLock = new();
    private readonly List<string> _lost = [];
    private long _dropped;

    public WatchBacklog(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _changes = Channel.CreateBounded<WatchItem>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            OnDropped);
    }

    public int Capacity { get; }

    /// <summary>Changes dropped since this watch began.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The capacity for a watch of <paramref name="tiers"/> tiers.</summary>
    public static int CapacityFor(int tiers) => Math.Clamp(tiers, 1, MaxCapacity / ChangesPerTier) * ChangesPerTier;

    /// <summary>Buffers <paramref name="change"/>; true when that dropped an older change (the buffer was full).</summary>
    public bool Offer(TierChanged change)
    {
        var before = Dropped;
        _changes.Writer.TryWrite(new WatchItem.Change(change));
        return Dropped != before;
    }

    /// <summary>
    /// Changes of <paramref name="tier"/> may have been missed upstream: the reader is woken and handed a resync of it,
    /// in order after what is buffered now. Takes a slot like a change (when full, the oldest is dropped and resynced too).
    /// </summary>
    public void Resync(string tier) => _changes.Writer.TryWrite(new WatchItem.Resync(tier));

    /// <summary>No more changes: the reader sees the end once the buffer is drained.</summary>
    public void Complete() => _changes.Writer.TryComplete();

    /// <summary>Waits for an item; false when completed and drained.</summary>
    public ValueTask<bool> WaitAsync(CancellationToken ct) => _changes.Reader.WaitToReadAsync(ct);

    /// <summary>The next item: a resync of a tier whose changes were dropped first, then the buffered changes in order.</summary>
    public bool TryTake(out WatchItem item)
    {
        lock (_lostLock)
        {
            if (_lost.Count > 0)
            {
                item = new WatchItem.Resync(_lost[0]);
                _lost.RemoveAt(0);
                return true;
            }
        }
        if (_changes.Reader.TryRead(out var next))
        {
            item = next;
            return true;
        }
        item = null!;
        return false;
    }

    private void OnDropped(WatchItem dropped)
    {
        // A dropped resync is not lost either: its tier joins the resyncs handed out first.
        var tier = dropped switch
        {
            WatchItem.Change change => change.Value.Snapshot.Name,
            WatchItem.Resync resync => resync.Tier,
            _ => throw new InvalidOperationException($"unknown watch item {dropped}"),
        };
        if (dropped is WatchItem.Change) Interlocked.Increment(ref _dropped);
        lock (_lostLock)
        {
            if (!_lost.Contains(tier, StringComparer.Ordinal)) _lost.Add(tier);
        }
    }
}

/// <summary>What a watch's reader does next.</summary>
internal abstract record WatchItem
{
    private WatchItem()
    {
    }

    /// <summary>Send this change (subject to <see cref="WatchGap.Decide"/>).</summary>
    public sealed record Change(TierChanged Value) : WatchItem;

    /// <summary>Changes of this tier were dropped: send a fresh snapshot of it.</summary>
    public sealed record Resync(string Tier) : WatchItem;
}

/// <summary>How a watch answers a change, given the version it last sent of that tier.</summary>
internal enum WatchStep
{
    /// <summary>Already sent (the snapshot or a resync covered it).</summary>
    Skip,

    /// <summary>The next version: send it as a change.</summary>
    Send,

    /// <summary>Versions were missed in between: send a fresh snapshot instead.</summary>
    Resync,
}

/// <summary>The version-gap rule every tier watch applies before writing a change.</summary>
internal static class WatchGap
{
    /// <param name="lastSent">Version last sent of the tier; 0 when none was (the tier had no snapshot yet).</param>
    /// <param name="version">Version of the change.</param>
    public static WatchStep Decide(long lastSent, long version) =>
        version <= lastSent ? WatchStep.Skip
        : lastSent > 0 && version > lastSent + 1 ? WatchStep.Resync
        : WatchStep.Send;
}
