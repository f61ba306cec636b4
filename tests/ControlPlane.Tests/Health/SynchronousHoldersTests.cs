using ControlPlane.Grains.Health;
using Xunit;

namespace ControlPlane.Tests.Health;

public sealed class SynchronousHoldersTests
{
    private const string Names = "ANY 1 (\"oltp-2\", \"oltp-3\")";

    [Fact]
    public void A_confirmed_set_replaces_the_remembered_one()
    {
        Assert.Equal(["oltp-3"], SynchronousHolders.Next(["oltp-2"], ["oltp-3"], Names));
    }

    [Fact]
    public void A_probe_listing_none_while_the_setting_names_standbys_keeps_the_last_set()
    {
        // The primary's WAL senders just exited (its postmaster was killed) or a standby is reconnecting: commits wait.
        Assert.Equal(["oltp-2", "oltp-3"], SynchronousHolders.Next(["oltp-2", "oltp-3"], [], Names));
    }

    [Fact]
    public void An_empty_setting_clears_the_set_because_asynchronous_commits_are_promised_to_nobody()
    {
        Assert.Empty(SynchronousHolders.Next(["oltp-2"], [], ""));
        Assert.Empty(SynchronousHolders.Next(["oltp-2"], ["oltp-2"], "  "));
    }

    [Fact]
    public void Nothing_remembered_and_nothing_confirmed_stays_empty()
    {
        Assert.Empty(SynchronousHolders.Next([], [], Names));
    }
}
