using ControlPlane.Grains.Backups;
using ControlPlane.Grains.Health;
using Xunit;

namespace ControlPlane.Tests.Backups;

public sealed class BackupSourcePolicyTests
{
    private static ReplicaStatus Replica(string name, ReplicaRole role, bool healthy = true, ulong? replay = null) =>
        new(name, "127.0.0.1", 5432, role, healthy, true, 0, 0, 1, 100, DateTimeOffset.UtcNow, 0, 1, 100, replay, replay,
            role == ReplicaRole.Standby ? "streaming" : null, "15", 1, "");

    private static TierSnapshot Tier(params ReplicaStatus[] replicas) =>
        new("local", "oltp", TierHealth.Healthy, "", "oltp-1", 1, 1, replicas, DateTimeOffset.UtcNow);

    [Fact]
    public void Best_standby_is_the_healthy_standby_that_replayed_the_most()
    {
        var tier = Tier(Replica("oltp-1", ReplicaRole.Primary), Replica("oltp-2", ReplicaRole.Standby, replay: 90), Replica("oltp-3", ReplicaRole.Standby, replay: 95));
        Assert.Equal("oltp-3", BackupSourcePolicy.Choose(BackupSource.BestStandby, tier));
    }

    [Fact]
    public void Best_standby_falls_back_to_the_primary_when_no_standby_is_healthy()
    {
        var tier = Tier(Replica("oltp-1", ReplicaRole.Primary), Replica("oltp-2", ReplicaRole.Standby, healthy: false, replay: 90));
        Assert.Equal("oltp-1", BackupSourcePolicy.Choose(BackupSource.BestStandby, tier));
    }

    [Fact]
    public void Primary_source_takes_the_primary() =>
        Assert.Equal("oltp-1", BackupSourcePolicy.Choose(BackupSource.Primary, Tier(Replica("oltp-1", ReplicaRole.Primary), Replica("oltp-2", ReplicaRole.Standby, replay: 9))));
}
