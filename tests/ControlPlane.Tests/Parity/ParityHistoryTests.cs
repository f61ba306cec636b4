using ControlPlane.Grains.Parity;
using Xunit;

namespace ControlPlane.Tests.Parity;

public sealed class ParityHistoryTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Unchanged_snapshots_are_numbered_in_order_and_share_one_copy_of_the_json()
    {
        var history = new ParityHistoryState();

        var first = ParityHistory.Append(history, "{a}", "h1", 3, "alice", At, 10);
        var second = ParityHistory.Append(history, "{a}", "h1", 3, "bob", At.AddMinutes(1), 10);
        var third = ParityHistory.Append(history, "{b}", "h2", 4, "alice", At.AddMinutes(2), 10);

        Assert.Equal([(1L, true), (2L, false), (3L, true)], new[] { first, second, third }.Select(s => (s.Sequence, s.Changed)));
        Assert.Equal(["h1", "h2"], history.Contents.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("bob", history.Snapshots[1].Principal);
    }

    [Fact]
    public void Beyond_the_cap_the_oldest_go_with_the_json_no_snapshot_still_uses_and_numbering_continues()
    {
        var history = new ParityHistoryState();
        ParityHistory.Append(history, "{a}", "h1", 1, "p", At, 2);
        ParityHistory.Append(history, "{b}", "h2", 1, "p", At, 2);

        var third = ParityHistory.Append(history, "{b}", "h2", 1, "p", At, 2);

        Assert.Equal(3, third.Sequence);
        Assert.Equal([2L, 3L], history.Snapshots.Select(s => s.Sequence));
        Assert.Equal(["h2"], history.Contents.Keys);
    }
}
