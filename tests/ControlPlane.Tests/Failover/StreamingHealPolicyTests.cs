using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Health;
using ControlPlane.Tests.Health;
using ControlPlane.Silo.Failover;
using Xunit;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Tests.Failover;

/// <summary>A standby that answers in recovery but does not stream from the primary: when its clock runs, when it is
/// rejoined, when rebuilt, and what it is left alone for.</summary>
public sealed class StreamingHealPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Stale = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan HealAfter = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(60);
    private const string PrimaryAddress = "127.0.0.1:5432";

    private static ReplicaHealth Standby(string? receiver, string? upstream = null, DateTimeOffset? at = null) =>
        TierHealthPolicyTests.Standby("oltp-2", receiver: receiver, at: at ?? Now) with { WalReceiverUpstream = upstream };

    private static StreamingFacts Facts(ReplicaHealth? health, DateTimeOffset since, int heals = 0, DateTimeOffset? rejoinedAt = null,
        bool broken = false, bool paused = false, string clockPrimary = "oltp-1") =>
        new("oltp-2", "oltp-1", health, new NotStreamingClock(clockPrimary, since), heals, rejoinedAt, broken, paused, HealAfter, Grace, Now);

    [Theory]
    [InlineData("streaming", PrimaryAddress)]
    [InlineData("catchup", PrimaryAddress)]
    [InlineData("streaming", null)]
    public void A_standby_receiving_wal_from_the_primary_has_no_clock_even_while_catching_up(string status, string? upstream)
    {
        var clock = new NotStreamingClock("oltp-1", Now.AddMinutes(-10));
        Assert.Null(StreamingHealPolicy.Track(clock, Standby(status, upstream), "oltp-1", PrimaryAddress, Now, Stale));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("starting", null)]
    [InlineData("waiting", PrimaryAddress)]
    [InlineData("streaming", "127.0.0.1:5499")]
    public void A_standby_answering_without_streaming_from_the_primary_starts_the_clock_at_that_probe_and_keeps_it(string? status, string? upstream)
    {
        var probedAt = Now.AddSeconds(-1);
        var started = StreamingHealPolicy.Track(null, Standby(status, upstream, probedAt), "oltp-1", PrimaryAddress, Now, Stale);
        Assert.Equal(new NotStreamingClock("oltp-1", probedAt, 1000), started);
        var kept = StreamingHealPolicy.Track(started, Standby(status, upstream, Now.AddSeconds(30)), "oltp-1", PrimaryAddress, Now.AddSeconds(30), Stale);
        Assert.Same(started, kept);
    }

    [Fact]
    public void A_restart_an_unreachable_probe_or_a_stale_one_resets_the_clock()
    {
        var clock = new NotStreamingClock("oltp-1", Now.AddMinutes(-10));
        Assert.Null(StreamingHealPolicy.Track(clock, TierHealthPolicyTests.Down("oltp-2"), "oltp-1", PrimaryAddress, Now, Stale));
        Assert.Null(StreamingHealPolicy.Track(clock, Standby(null, at: Now.AddSeconds(-6)), "oltp-1", PrimaryAddress, Now, Stale));
        Assert.Null(StreamingHealPolicy.Track(clock, null, "oltp-1", PrimaryAddress, Now, Stale));
        // Writable is the rogue rule's business.
        Assert.Null(StreamingHealPolicy.Track(clock, Standby(null) with { InRecovery = false }, "oltp-1", PrimaryAddress, Now, Stale));
    }

    [Fact]
    public void Replay_that_moved_on_without_a_wal_receiver_restarts_the_clock_since_wal_comes_from_the_archive()
    {
        var clock = new NotStreamingClock("oltp-1", Now.AddMinutes(-10), 1000);
        var replaying = TierHealthPolicyTests.Standby("oltp-2", replay: 5000, receiver: null, at: Now);
        Assert.Equal(new NotStreamingClock("oltp-1", Now, 5000), StreamingHealPolicy.Track(clock, replaying, "oltp-1", PrimaryAddress, Now, Stale));
        var stuck = TierHealthPolicyTests.Standby("oltp-2", replay: 1000, receiver: null, at: Now);
        Assert.Same(clock, StreamingHealPolicy.Track(clock, stuck, "oltp-1", PrimaryAddress, Now, Stale));
    }

    [Fact]
    public void A_new_primary_starts_the_clock_again()
    {
        var old = new NotStreamingClock("oltp-3", Now.AddMinutes(-10));
        Assert.Equal(new NotStreamingClock("oltp-1", Now, 1000), StreamingHealPolicy.Track(old, Standby(null), "oltp-1", PrimaryAddress, Now, Stale));
        Assert.Null(StreamingHealPolicy.Decide(Facts(Standby(null), Now.AddMinutes(-10), clockPrimary: "oltp-3")));
    }

    [Fact]
    public void Not_streaming_for_the_heal_delay_rejoins_the_standby_naming_it_the_primary_and_the_time()
    {
        var heal = StreamingHealPolicy.Decide(Facts(Standby(null), Now.AddSeconds(-61)));
        Assert.NotNull(heal);
        Assert.Equal(StreamingHealAction.Rejoin, heal.Action);
        Assert.Equal("standby oltp-2 reachable but not streaming from primary oltp-1 for 61 s: rejoining it", heal.Reason);
        Assert.Contains("oltp-2 answers in recovery but runs no WAL receiver", heal.Evidence);
    }

    [Fact]
    public void Shorter_than_the_heal_delay_nothing_is_done()
    {
        Assert.Null(StreamingHealPolicy.Decide(Facts(Standby("starting"), Now.AddSeconds(-59))));
    }

    [Fact]
    public void A_standby_rejoined_within_the_grace_is_left_to_come_back()
    {
        Assert.Null(StreamingHealPolicy.Decide(Facts(Standby(null), Now.AddMinutes(-5), rejoinedAt: Now.AddSeconds(-30))));
        Assert.NotNull(StreamingHealPolicy.Decide(Facts(Standby(null), Now.AddMinutes(-5), rejoinedAt: Now.AddSeconds(-61))));
    }

    [Fact]
    public void A_paused_tier_or_a_broken_standby_is_not_healed_by_this_rule()
    {
        Assert.Null(StreamingHealPolicy.Decide(Facts(Standby(null), Now.AddMinutes(-5), paused: true)));
        Assert.Null(StreamingHealPolicy.Decide(Facts(Standby(null), Now.AddMinutes(-5), broken: true)));
    }

    [Fact]
    public void A_standby_a_rejoin_did_not_make_stream_is_rebuilt()
    {
        var heal = StreamingHealPolicy.Decide(Facts(Standby("waiting", PrimaryAddress), Now.AddSeconds(-90), heals: 1));
        Assert.NotNull(heal);
        Assert.Equal(StreamingHealAction.Rebuild, heal.Action);
        Assert.Equal("standby oltp-2 reachable but not streaming from primary oltp-1 for 90 s: rebuilding it from a fresh base backup of oltp-1", heal.Reason);
        Assert.Contains($"oltp-2's WAL receiver is waiting from {PrimaryAddress}", heal.Evidence);
    }

    [Fact]
    public void The_heal_delay_defaults_to_a_minute_and_is_refused_outside_10_s_to_1_h()
    {
        Assert.Equal(TimeSpan.FromSeconds(60), new FailoverSettings().NotStreamingHealAfter);
        Assert.Contains("not_streaming_heal_after_seconds is 9; expected 10 to 3600 seconds.",
            new FailoverSettings { NotStreamingHealAfter = TimeSpan.FromSeconds(9) }.Validate());
        Assert.Contains("not_streaming_heal_after_seconds is 3601; expected 10 to 3600 seconds.",
            new FailoverSettings { NotStreamingHealAfter = TimeSpan.FromSeconds(3601) }.Validate());
    }

    [Fact]
    public void Set_failover_settings_takes_the_heal_delay_in_seconds_and_keeps_it_when_left_at_zero()
    {
        var current = new FailoverSettings { NotStreamingHealAfter = TimeSpan.FromSeconds(90) };
        Assert.Equal(90, FailoverMapper.ToProto("local", "oltp", current).NotStreamingHealAfterSeconds);
        Assert.Equal(TimeSpan.FromSeconds(90), FailoverMapper.Merge(current, new Proto.FailoverSettings { AutoFailover = true }).NotStreamingHealAfter);
        Assert.Equal(TimeSpan.FromSeconds(15),
            FailoverMapper.Merge(current, new Proto.FailoverSettings { AutoFailover = true, NotStreamingHealAfterSeconds = 15 }).NotStreamingHealAfter);
    }
}
