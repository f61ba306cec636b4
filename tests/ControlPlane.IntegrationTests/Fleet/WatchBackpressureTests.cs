using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Fleet;

/// <summary>
/// A watcher that stops reading costs the silo a bounded buffer and costs it alone: the other watchers keep getting
/// every change, and the stuck one, when it reads again, gets a fresh snapshot in place of what was dropped
/// (docs/fleet.md "Backpressure"). The changes are real: the tier's automatic decisions paused and resumed.
/// </summary>
[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class WatchBackpressureTests(SiloFixture fixture, ITestOutputHelper output)
{
    private const string TierName = "content";
    private const string DropLine = "A watch of tier " + TierName + " reads too slowly";
    private const int MaxChanges = 4000;

    [Fact]
    public async Task A_watcher_that_never_reads_gets_a_fresh_snapshot_for_what_it_missed_while_another_sees_every_change()
    {
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        var failover = new FailoverService.FailoverServiceClient(fixture.Invoker(fixture.AdminToken));
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var ct = cts.Token;
        var dropsBefore = DropLines();

        // The stuck watcher is another client on its own connection: it never reads, so only its own stream's window fills.
        using var slowChannel = GrpcChannel.ForAddress(fixture.Endpoint);
        var slowFleet = new FleetService.FleetServiceClient(slowChannel.Intercept(m =>
        {
            m.Add("authorization", "Bearer " + fixture.AdminToken);
            return m;
        }));
        using var slow = slowFleet.WatchTier(new WatchTierRequest { Tier = TierName }, cancellationToken: ct);
        await slow.ResponseHeadersAsync; // sent with the opening snapshot, after the server subscribed

        using var fast = fixture.Fleet.WatchTier(new WatchTierRequest { Tier = TierName }, cancellationToken: ct);
        Assert.True(await fast.ResponseStream.MoveNext(ct));
        var opening = fast.ResponseStream.Current;
        Assert.Equal(TierEventKind.Snapshot, opening.Kind);
        Assert.False(opening.Tier.Paused);
        var last = opening.Version;

        // Lockstep with the reading watcher: each change must reach it before the next is made, so it can only
        // keep going if the stuck watcher holds up nobody. Stop once the silo says the stuck one's buffer overflowed.
        var changes = 0;
        var paused = false;
        try
        {
        while (DropLines() == dropsBefore || paused)
        {
            Assert.True(changes < MaxChanges, $"{changes} changes made and the stuck watcher's buffer never overflowed");
            paused = !paused;
            if (paused) await failover.PauseTierAsync(new PauseTierRequest { Tier = TierName, Reason = "watch backpressure test" }, cancellationToken: ct);
            else await failover.ResumeTierAsync(new ResumeTierRequest { Tier = TierName }, cancellationToken: ct);
            changes++;
            while (true)
            {
                Assert.True(await fast.ResponseStream.MoveNext(ct));
                var e = fast.ResponseStream.Current;
                Assert.Equal(TierEventKind.Change, e.Kind);
                Assert.Equal(last + 1, e.Version);
                last = e.Version;
                if (e.Tier.Paused == paused) break;
            }
        }
        }
        finally
        {
            // The tier is shared with the collection's other tests: never leave its decisions paused.
            if (paused) await failover.ResumeTierAsync(new ResumeTierRequest { Tier = TierName }, cancellationToken: CancellationToken.None);
        }
        output.WriteLine($"{changes} pause/resume changes until the stuck watcher's buffer overflowed; the reading watcher saw every version up to {last}");

        // The stuck watcher reads at last: what its transport held, then a snapshot in place of the dropped changes.
        var events = new List<TierEvent>();
        while (events.Count == 0 || events[^1].Version < last)
        {
            Assert.True(await slow.ResponseStream.MoveNext(ct));
            events.Add(slow.ResponseStream.Current);
        }
        Assert.Equal(TierEventKind.Snapshot, events[0].Kind);
        Assert.Contains(events.Skip(1), e => e.Kind == TierEventKind.Snapshot);
        Assert.True(events.Zip(events.Skip(1)).All(p => p.Second.Version > p.First.Version), "versions only increase");
        Assert.True(events.Count < last - events[0].Version + 1, "changes were dropped, not buffered without bound");
        Assert.False(events[^1].Tier.Paused);
        output.WriteLine($"the stuck watcher got {events.Count} events for versions {events[0].Version}..{last}; snapshots at versions "
            + string.Join(", ", events.Where(e => e.Kind == TierEventKind.Snapshot).Select(e => e.Version)));
    }

    private int DropLines() => fixture.Logs.Lines.Count(l => l.Contains(DropLine, StringComparison.Ordinal));
}
