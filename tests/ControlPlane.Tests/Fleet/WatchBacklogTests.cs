using ControlPlane.Grains.Health;
using ControlPlane.Silo.Fleet;
using Xunit;

namespace ControlPlane.Tests.Fleet;

/// <summary>The bounded buffer of one watch and the version-gap rule (docs/fleet.md "Backpressure").</summary>
public sealed class WatchBacklogTests
{
    private static TierChanged Change(string tier, long version) =>
        new(version, [$"v{version}"], new TierSnapshot("local", tier, TierHealth.Healthy, "", $"{tier}-1", 1, version, [], DateTimeOffset.UnixEpoch));

    private static List<WatchItem> Drain(WatchBacklog backlog)
    {
        var items = new List<WatchItem>();
        while (backlog.TryTake(out var item)) items.Add(item);
        return items;
    }

    [Fact]
    public void A_reader_that_keeps_up_gets_every_change_in_order_and_nothing_is_dropped()
    {
        var backlog = new WatchBacklog(4);
        for (var v = 1; v <= 3; v++) Assert.False(backlog.Offer(Change("oltp", v)));
        Assert.Equal([1L, 2L, 3L], Drain(backlog).Select(i => ((WatchItem.Change)i).Value.Version));
        Assert.Equal(0, backlog.Dropped);
    }

    [Fact]
    public void A_full_buffer_drops_the_oldest_change_and_hands_the_reader_a_resync_of_its_tier_first()
    {
        var backlog = new WatchBacklog(3);
        for (var v = 1; v <= 3; v++) Assert.False(backlog.Offer(Change("oltp", v)));
        Assert.True(backlog.Offer(Change("oltp", 4)));
        Assert.True(backlog.Offer(Change("oltp", 5)));

        var items = Drain(backlog);
        Assert.Equal(new WatchItem.Resync("oltp"), items[0]);
        Assert.Equal([3L, 4L, 5L], items.Skip(1).Select(i => ((WatchItem.Change)i).Value.Version));
        Assert.Equal(2, backlog.Dropped);
    }

    [Fact]
    public void A_tier_whose_only_change_was_dropped_is_still_resynced_though_it_never_changes_again()
    {
        // WatchFleet: a busy tier pushes a quiet tier's one change out; no later version of the quiet tier would show the gap.
        var backlog = new WatchBacklog(2);
        backlog.Offer(Change("olap", 7));
        backlog.Offer(Change("oltp", 1));
        backlog.Offer(Change("oltp", 2));
        backlog.Offer(Change("oltp", 3));

        var items = Drain(backlog);
        Assert.Equal(new WatchItem.Resync("olap"), items[0]);
        Assert.DoesNotContain(items, i => i is WatchItem.Change c && c.Value.Snapshot.Name == "olap");
    }

    [Fact]
    public void Each_lost_tier_is_resynced_once_however_many_of_its_changes_were_dropped()
    {
        var backlog = new WatchBacklog(1);
        for (var v = 1; v <= 50; v++) backlog.Offer(Change(v % 2 == 0 ? "oltp" : "queue", v));

        var resyncs = Drain(backlog).OfType<WatchItem.Resync>().Select(r => r.Tier).ToList();
        Assert.Equal(["queue", "oltp"], resyncs);
        Assert.Equal(49, backlog.Dropped);
    }

    [Fact]
    public void The_buffer_holds_a_fixed_number_of_changes_per_watched_tier_up_to_a_ceiling()
    {
        Assert.Equal(WatchBacklog.ChangesPerTier, WatchBacklog.CapacityFor(1));
        Assert.Equal(WatchBacklog.ChangesPerTier, WatchBacklog.CapacityFor(0));
        Assert.Equal(4 * WatchBacklog.ChangesPerTier, WatchBacklog.CapacityFor(4));
        Assert.Equal(WatchBacklog.MaxCapacity, WatchBacklog.CapacityFor(10_000));
    }

    [Fact]
    public async Task A_resync_asked_from_upstream_wakes_the_reader_and_comes_after_what_was_buffered_before_it()
    {
        // The hub's subscription to a tier was lost and made again: the watch re-reads the tier, in order.
        var backlog = new WatchBacklog(4);
        var waiting = backlog.WaitAsync(CancellationToken.None);
        backlog.Offer(Change("oltp", 1));
        backlog.Resync("oltp");
        backlog.Offer(Change("oltp", 9));
        Assert.True(await waiting);

        var items = Drain(backlog);
        Assert.Equal(3, items.Count);
        Assert.Equal(1, ((WatchItem.Change)items[0]).Value.Version);
        Assert.Equal(new WatchItem.Resync("oltp"), items[1]);
        Assert.Equal(9, ((WatchItem.Change)items[2]).Value.Version);
        Assert.Equal(0, backlog.Dropped);
    }

    [Fact]
    public void A_resync_pushed_out_of_a_full_buffer_is_still_handed_to_the_reader_first()
    {
        var backlog = new WatchBacklog(2);
        backlog.Resync("olap");
        backlog.Offer(Change("oltp", 1));
        backlog.Offer(Change("oltp", 2));

        var items = Drain(backlog);
        Assert.Equal(new WatchItem.Resync("olap"), items[0]);
        Assert.Equal([1L, 2L], items.Skip(1).Select(i => ((WatchItem.Change)i).Value.Version));
        Assert.Equal(0, backlog.Dropped);
    }

    [Fact]
    public async Task A_completed_backlog_ends_the_reader_once_drained()
    {
        var backlog = new WatchBacklog(2);
        backlog.Offer(Change("oltp", 1));
        backlog.Complete();
        Assert.True(await backlog.WaitAsync(CancellationToken.None));
        Assert.Single(Drain(backlog));
        Assert.False(await backlog.WaitAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData(5, 5, "Skip")]
    [InlineData(5, 3, "Skip")]
    [InlineData(5, 6, "Send")]
    [InlineData(5, 9, "Resync")]
    [InlineData(0, 9, "Send")]
    public void A_change_is_skipped_sent_or_replaced_by_a_snapshot_by_its_distance_from_the_last_version_sent(long lastSent, long version, string expected) =>
        Assert.Equal(expected, WatchGap.Decide(lastSent, version).ToString());
}
