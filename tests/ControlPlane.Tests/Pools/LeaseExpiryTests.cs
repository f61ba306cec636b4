using ControlPlane.Grains.Pools;
using Xunit;

namespace ControlPlane.Tests.Pools;

public sealed class LeaseExpiryTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static LeaseRecord Lease(string id, int ttlSeconds, DateTimeOffset acquired) =>
        new(id, "oltp", "acme", "svc", 5, LeaseAccess.ReadWrite, 5, TimeSpan.FromSeconds(ttlSeconds), acquired, acquired.AddSeconds(ttlSeconds), LeaseState.Active, 3);

    [Fact]
    public void A_lease_not_renewed_within_its_ttl_expires_and_returns_its_grant()
    {
        var (live, expired) = LeaseExpiry.Expire([Lease("oltp.acme.1", 10, T0), Lease("oltp.acme.2", 30, T0)], T0.AddSeconds(10));
        Assert.Equal("oltp.acme.2", Assert.Single(live).Id);
        var gone = Assert.Single(expired);
        Assert.Equal(LeaseState.Expired, gone.State);
        Assert.Equal(0, gone.Granted);
        Assert.Equal(4, gone.Version);
    }

    [Fact]
    public void A_renewal_extends_by_one_ttl_from_now()
    {
        var renewed = LeaseExpiry.Renew(Lease("oltp.acme.1", 10, T0), T0.AddSeconds(7));
        Assert.Equal(T0.AddSeconds(17), renewed!.ExpiresAt);
        Assert.Equal(3, renewed.Version);
    }

    [Fact]
    public void An_expired_or_ended_lease_cannot_be_renewed()
    {
        Assert.Null(LeaseExpiry.Renew(Lease("oltp.acme.1", 10, T0), T0.AddSeconds(10)));
        Assert.Null(LeaseExpiry.Renew(Lease("oltp.acme.1", 10, T0) with { State = LeaseState.Released }, T0.AddSeconds(1)));
    }

    [Fact]
    public void After_a_restart_every_live_lease_gets_one_ttl_of_grace()
    {
        var graced = LeaseExpiry.Grace([Lease("oltp.acme.1", 10, T0)], T0.AddMinutes(5));
        Assert.Equal(T0.AddMinutes(5).AddSeconds(10), Assert.Single(graced).ExpiresAt);
    }

    [Fact]
    public void Ttl_outside_the_tier_bounds_is_refused_naming_the_field()
    {
        var settings = new PoolSettings(DefaultTtlSeconds: 30, MaxTtlSeconds: 600);
        Assert.Equal(TimeSpan.FromSeconds(30), LeaseExpiry.TtlFor(0, settings));
        var e = Assert.Throws<ArgumentException>(() => LeaseExpiry.TtlFor(601, settings));
        Assert.Contains("ttl_seconds 601", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Leak_policy_flags_overruns_and_idle_transactions_and_terminates_only_tagged_sessions_past_the_limit()
    {
        var lease = Lease("oltp.acme.1", 30, T0) with { Granted = 1 };
        var tag = lease.Tag;
        var sample = new ReplicaPoolSample("oltp-1", T0, false, 100, 3, 0, 10, 150000,
        [
            new PoolSession(1, tag, true, 100, 90),
            new PoolSession(2, tag, false, 50, 1),
            new PoolSession(3, "psql", true, 500, 400),
            new PoolSession(4, "cp:oltp.acme.9:gone", false, 5, 5),
        ]);
        var settings = new PoolSettings(LeakSuspectSeconds: 30, TerminateIdleInTransactionSeconds: 60);
        var result = LeakPolicy.Assess(sample, new Dictionary<string, LeaseRecord> { [lease.Id] = lease }, settings);
        Assert.Equal(2, result.Usage[lease.Id].Connections);
        Assert.Equal(1, result.Usage[lease.Id].LeakSuspects);
        Assert.Equal(["oltp.acme.1", "oltp.acme.9"], result.Overruns);
        Assert.Equal((1, "oltp.acme.1", 90d), Assert.Single(result.Terminate));
        Assert.Equal(1, PoolCapacity.Unmanaged(sample));
    }
}
