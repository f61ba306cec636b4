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
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(3));
        var failover = new FailoverService.FailoverServiceClient(fixture.Invoker(fixture.AdminToken));
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(10));
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
        var seen = new List<TierEvent>();
        var reading = Task.Run(async () =>
        {
            while (await fast.ResponseStream.MoveNext(ct))
            {
                lock (seen) seen.Add(fast.ResponseStream.Current);
            }
        }, ct);

        // Real changes until the silo says the stuck watcher's buffer overflowed; the tier is left resumed.
        var changes = 0;
        var paused = opening.Tier.Paused;
        try
        {
            while (DropLines() == dropsBefore || paused)
            {
                Assert.True(changes < MaxChanges, $"{changes} changes made and the stuck watcher's buffer never overflowed");
                Assert.False(reading.IsCompleted, "the reading watcher's stream ended");
                paused = !paused;
                if (paused) await failover.PauseTierAsync(new PauseTierRequest { Tier = TierName, Reason = "watch backpressure test" }, cancellationToken: ct);
                else await failover.ResumeTierAsync(new ResumeTierRequest { Tier = TierName }, cancellationToken: ct);
                changes++;
            }
        }
        finally
        {
            // The tier is shared with the collection's other tests: never leave its decisions paused.
            if (paused) await failover.ResumeTierAsync(new ResumeTierRequest { Tier = TierName }, cancellationToken: CancellationToken.None);
        }
        var last = (await fixture.Fleet.GetTierAsync(new GetTierRequest { Tier = TierName }, cancellationToken: ct)).Version;

        // The reading watcher got every version, in order, while the other was stuck.
        while (Seen().Count == 0 || Seen()[^1].Version < last) await Task.WhenAny(reading, Task.Delay(50, ct));
        var versions = Seen().Select(e => e.Version).ToList();
        Assert.Equal(Enumerable.Range(0, versions.Count).Select(i => opening.Version + 1 + i), versions);
        output.WriteLine($"{changes} pause/resume changes until the stuck watcher's buffer overflowed; the reading watcher got all {versions.Count} versions "
            + $"{opening.Version + 1}..{last} ({Seen().Count(e => e.Kind == TierEventKind.Snapshot)} as a snapshot)");

        // The stuck watcher reads at last: what its transport held, then a snapshot in place of the dropped changes.
        var events = new List<TierEvent>();
        while (events.Count == 0 || events[^1].Version < last)
        {
            Assert.True(await slow.ResponseStream.MoveNext(ct));
            events.Add(slow.ResponseStream.Current);
        }
        output.WriteLine($"the stuck watcher got {events.Count} events for versions {events[0].Version}..{last}; snapshots at versions "
            + string.Join(", ", events.Where(e => e.Kind == TierEventKind.Snapshot).Select(e => e.Version)));
        Assert.Equal(TierEventKind.Snapshot, events[0].Kind);
        Assert.Contains(events.Skip(1), e => e.Kind == TierEventKind.Snapshot);
        Assert.True(events.Zip(events.Skip(1)).All(p => p.Second.Version > p.First.Version), "versions only increase");
        Assert.True(events.Count < last - events[0].Version + 1, "changes were dropped, not buffered without bound");
        Assert.False(events[^1].Tier.Paused);

        List<TierEvent> Seen()
        {
            lock (seen) return [.. seen];
        }
    }

    private int DropLines() => fixture.Logs.Lines.Count(l => l.Contains(DropLine, StringComparison.Ordinal));
}
