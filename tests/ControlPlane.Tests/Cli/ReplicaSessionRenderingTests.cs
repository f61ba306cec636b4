using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace ControlPlane.Tests.Cli;

/// <summary><c>cpctl replica</c> shows what a new client gets, not only what the pooled probe saw.</summary>
public sealed class ReplicaSessionRenderingTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_replica_that_opens_no_new_session_shows_the_outcome_the_error_and_the_count()
    {
        var replica = new Replica
        {
            Name = "oltp-1", Session = "session_timed_out", SessionError = "connected but no session within 0.4s", SessionFailures = 4,
            SessionCheckedAt = Timestamp.FromDateTimeOffset(Now.AddMilliseconds(-300)),
        };
        Assert.Equal("session timed out: connected but no session within 0.4s (4 in a row, checked 0.3s ago)", FleetRendering.NewSession(replica, Now));
    }

    [Fact]
    public void A_replica_that_opens_sessions_shows_the_latency()
    {
        var replica = new Replica { Name = "oltp-1", Session = "opened", SessionLatencyMs = 4.2, SessionCheckedAt = Timestamp.FromDateTimeOffset(Now.AddSeconds(-1)) };
        Assert.StartsWith("opened (4.2 ms", FleetRendering.NewSession(replica, Now), StringComparison.Ordinal);
    }

    [Fact]
    public void A_replica_never_checked_shows_a_dash() =>
        Assert.Equal("-", FleetRendering.NewSession(new Replica { Name = "oltp-2" }, Now));
}
