using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Health;
using ControlPlane.Tests.Health;
using Xunit;

namespace ControlPlane.Tests.Failover;

public sealed class FailoverFactsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    private static readonly TierSpec Spec = new("local", "oltp", "oltp-1",
    [
        new ReplicaSpec("local", "oltp", "oltp-1", "127.0.0.1", 5432, "postgres", "postgres", "/secret", null),
        new ReplicaSpec("local", "oltp", "oltp-2", "127.0.0.1", 5433, "postgres", "postgres", "/secret", null),
    ]);

    [Fact]
    public void A_standby_streaming_from_the_primary_address_is_evidence_the_primary_lives()
    {
        var standby = TierHealthPolicyTests.Standby("oltp-2") with { WalReceiverUpstream = "127.0.0.1:5432", WalReceiverLastMessageAgeSeconds = 0.5 };
        var view = FailoverFacts.Build(Spec, new FailoverSettings(), false, 1, "oltp-1",
            new Dictionary<string, ReplicaHealth> { ["oltp-1"] = TierHealthPolicyTests.Down("oltp-1"), ["oltp-2"] = standby }, Now, TimeSpan.FromSeconds(5));
        Assert.True(view.Replicas.Single(r => r.Name == "oltp-2").StreamingFromPrimary);
    }

    [Fact]
    public void A_receiver_silent_for_seconds_is_not_evidence()
    {
        var standby = TierHealthPolicyTests.Standby("oltp-2") with { WalReceiverUpstream = "127.0.0.1:5432", WalReceiverLastMessageAgeSeconds = 10 };
        var view = FailoverFacts.Build(Spec, new FailoverSettings(), false, 1, "oltp-1",
            new Dictionary<string, ReplicaHealth> { ["oltp-2"] = standby }, Now, TimeSpan.FromSeconds(5));
        Assert.False(view.Replicas.Single(r => r.Name == "oltp-2").StreamingFromPrimary);
    }

    [Fact]
    public void The_last_writable_position_of_a_dead_primary_bounds_the_lag_check()
    {
        var dead = TierHealthPolicyTests.Down("oltp-1") with { LastWritableLsn = 4242 };
        var view = FailoverFacts.Build(Spec, new FailoverSettings(), false, 1, "oltp-1",
            new Dictionary<string, ReplicaHealth> { ["oltp-1"] = dead }, Now, TimeSpan.FromSeconds(5));
        Assert.Equal(4242UL, view.PrimaryLastLsn);
    }

    [Fact]
    public void A_writable_replica_that_is_not_the_primary_is_a_rogue()
    {
        var latest = new Dictionary<string, ReplicaHealth>
        {
            ["oltp-1"] = TierHealthPolicyTests.Primary("oltp-1"),
            ["oltp-2"] = TierHealthPolicyTests.Primary("oltp-2"),
        };
        Assert.Equal(["oltp-1"], FailoverFacts.Rogues(Spec, "oltp-2", latest, Now, TimeSpan.FromSeconds(5)));
    }

    [Theory]
    [InlineData("oltp.3", "oltp", 3L)]
    [InlineData("content-x.12", "content-x", 12L)]
    public void Operation_ids_split_into_tier_and_sequence(string id, string tier, long sequence)
    {
        Assert.True(OperationRecord.TryParseId(id, out var t, out var s));
        Assert.Equal((tier, sequence), (t, s));
    }

    [Theory]
    [InlineData("")]
    [InlineData("oltp")]
    [InlineData("oltp.")]
    [InlineData("oltp.-1")]
    [InlineData("OLTP.1")]
    [InlineData(".1")]
    [InlineData("oltp.0")]
    public void Malformed_operation_ids_are_refused(string id) => Assert.False(OperationRecord.TryParseId(id, out _, out _));
}
