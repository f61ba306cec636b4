using ControlPlane.Client.Fleet;
using ControlPlane.Protos.V1;
using Xunit;

namespace ControlPlane.Tests.Cli;

public sealed class VersionSequenceTests
{
    private static TierEvent Snapshot(long version) => new() { Kind = TierEventKind.Snapshot, Version = version };

    private static TierEvent Change(long version) => new() { Kind = TierEventKind.Change, Version = version };

    [Fact]
    public void Consecutive_changes_after_a_snapshot_are_in_order()
    {
        var sequence = new VersionSequence();
        Assert.Equal(Continuity.InOrder, sequence.Classify(Snapshot(4)));
        Assert.Equal(Continuity.InOrder, sequence.Classify(Change(5)));
        Assert.Equal(Continuity.InOrder, sequence.Classify(Change(6)));
        Assert.Equal(6, sequence.Last);
    }

    [Fact]
    public void A_skipped_version_is_a_gap_and_does_not_advance()
    {
        var sequence = new VersionSequence();
        sequence.Classify(Snapshot(4));
        Assert.Equal(Continuity.Gap, sequence.Classify(Change(6)));
        Assert.Equal(4, sequence.Last);
    }

    [Fact]
    public void Versions_at_or_below_the_last_delivered_are_already_seen()
    {
        var sequence = new VersionSequence();
        sequence.Classify(Snapshot(4));
        Assert.Equal(Continuity.AlreadySeen, sequence.Classify(Change(4)));
        Assert.Equal(Continuity.AlreadySeen, sequence.Classify(Change(2)));
    }

    [Fact]
    public void A_change_before_any_snapshot_is_a_gap()
    {
        Assert.Equal(Continuity.Gap, new VersionSequence().Classify(Change(1)));
    }

    [Fact]
    public void A_snapshot_always_resets_the_sequence_even_to_an_older_version()
    {
        var sequence = new VersionSequence();
        sequence.Classify(Snapshot(9));
        Assert.Equal(Continuity.InOrder, sequence.Classify(Snapshot(3)));
        Assert.Equal(Continuity.InOrder, sequence.Classify(Change(4)));
    }
}
