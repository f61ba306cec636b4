using ControlPlane.Protos.V1;
using ControlPlane.Silo.Security;
using Xunit;

namespace ControlPlane.Tests.Security;

public sealed class TokenCacheTests
{
    private static TokenRecord Token(string id, DateTimeOffset? revoked = null) =>
        new(id, "ci", Role.Viewer, [], [1, 2], [3, 4], DateTimeOffset.UnixEpoch, "admin", null, revoked, revoked is null ? null : "admin");

    [Fact]
    public void A_stored_token_is_found_until_its_row_changes()
    {
        var cache = new TokenCache();
        Assert.True(cache.TryAdd(Token("a"), cache.Generation));
        Assert.True(cache.TryGet("a", out _));
        cache.Invalidate("a");
        Assert.False(cache.TryGet("a", out _));
    }

    [Fact]
    public void A_read_that_began_before_an_invalidation_is_not_stored()
    {
        // A call reads the row, the token is revoked and announced, then the call tries to store what it read.
        var cache = new TokenCache();
        var generation = cache.Generation;
        cache.Invalidate("a");
        Assert.False(cache.TryAdd(Token("a"), generation));
        Assert.False(cache.TryGet("a", out _));
    }

    [Fact]
    public void An_invalidation_of_another_token_also_refuses_older_reads()
    {
        // Conservative on purpose: one counter for all ids costs a cache miss, never a stale entry.
        var cache = new TokenCache();
        var generation = cache.Generation;
        cache.Invalidate("b");
        Assert.False(cache.TryAdd(Token("a"), generation));
        Assert.True(cache.TryAdd(Token("a"), cache.Generation));
    }

    [Fact]
    public void Clearing_drops_everything_and_refuses_reads_begun_before()
    {
        var cache = new TokenCache();
        cache.TryAdd(Token("a"), cache.Generation);
        cache.TryAdd(Token("b"), cache.Generation);
        var generation = cache.Generation;
        cache.Clear();
        Assert.Equal(0, cache.Count);
        Assert.False(cache.TryAdd(Token("c"), generation));
    }

    [Fact]
    public void A_revoked_record_stays_revoked_in_the_cache()
    {
        var cache = new TokenCache();
        var revokedAt = DateTimeOffset.UnixEpoch.AddDays(1);
        cache.TryAdd(Token("a", revokedAt), cache.Generation);
        Assert.True(cache.TryGet("a", out var record));
        Assert.Equal(revokedAt, record.RevokedAt);
        Assert.False(record.IsActive(DateTimeOffset.UnixEpoch.AddDays(2)));
    }

    [Fact]
    public void The_listener_state_is_what_it_last_reported()
    {
        var cache = new TokenCache();
        Assert.False(cache.Listening);
        cache.SetListening(true);
        Assert.True(cache.Listening);
        cache.SetListening(false);
        Assert.False(cache.Listening);
    }

    [Fact]
    public void Hits_are_trusted_only_while_the_last_confirmed_round_trip_is_within_the_trust_window()
    {
        var clock = new SteppedClock();
        var cache = new TokenCache(clock);
        cache.SetListening(true);
        Assert.False(cache.Trusted); // connected but never confirmed
        cache.Confirm(cache.Now());
        Assert.True(cache.Trusted);
        clock.Advance(TokenCache.TrustWindow);
        Assert.True(cache.Trusted);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(cache.Trusted); // a silent channel stops being believed: the staleness bound
        cache.Confirm(cache.Now());
        Assert.True(cache.Trusted);
    }

    [Fact]
    public void A_listener_that_lost_its_connection_is_not_trusted_even_after_a_recent_round_trip()
    {
        var cache = new TokenCache(new SteppedClock());
        cache.SetListening(true);
        cache.Confirm(cache.Now());
        cache.SetListening(false);
        Assert.False(cache.Trusted);
        cache.SetListening(true);
        Assert.False(cache.Trusted); // a reconnect must confirm again
    }

    [Fact]
    public void Invalidations_are_announced_with_the_token_id_or_null_for_everything()
    {
        var cache = new TokenCache();
        var seen = new List<string?>();
        cache.Invalidated += seen.Add;
        cache.Invalidate("a");
        cache.Clear();
        Assert.Equal(["a", null], seen);
    }

    /// <summary>A clock that moves only when told to.</summary>
    private sealed class SteppedClock : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
