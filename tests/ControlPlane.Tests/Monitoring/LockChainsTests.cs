using ControlPlane.Grains.Monitoring;
using ControlPlane.Postgres.Monitoring;
using Xunit;

namespace ControlPlane.Tests.Monitoring;

public sealed class LockChainsTests
{
    private static LockSession Session(int pid, params int[] blockedBy) =>
        new(pid, "app", "db", "a", blockedBy.Length > 0 ? "active" : "idle in transaction", null, 10, 5, $"q{pid}", blockedBy, []);

    [Fact]
    public void A_chain_starts_at_the_root_blocker_with_waiters_depth_first()
    {
        var chains = LockChains.Build([Session(10), Session(11, 10), Session(12, 11), Session(13, 10)]);
        var chain = Assert.Single(chains);
        Assert.Equal(10, chain.BlockerPid);
        Assert.Equal([(10, 0), (11, 1), (12, 2), (13, 1)], chain.Sessions.Select(s => (s.Pid, s.Depth)));
    }

    [Fact]
    public void Independent_blockers_make_separate_chains()
    {
        var chains = LockChains.Build([Session(1), Session(2, 1), Session(3), Session(4, 3)]);
        Assert.Equal([1, 3], chains.Select(c => c.BlockerPid));
    }

    [Fact]
    public void A_cycle_still_shows_as_one_chain()
    {
        var chain = Assert.Single(LockChains.Build([Session(5, 6), Session(6, 5)]));
        Assert.Equal(2, chain.Sessions.Count);
    }
}
