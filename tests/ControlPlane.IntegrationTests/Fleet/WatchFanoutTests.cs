using ControlPlane.Grains.Fleet;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using ControlPlane.Silo.Fleet;
using ControlPlane.Silo.Security;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Fleet;

/// <summary>
/// Many watches of one tier on the real silo share one stream subscription (docs/fleet.md "One subscription per tier
/// per silo"): they all open at once, all get the next real change, and all catch up after the subscription is lost.
/// </summary>
[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class WatchFanoutTests(SiloFixture fixture, ITestOutputHelper output)
{
    private const string TierName = "content";

    [Fact]
    public async Task Three_hundred_watches_of_one_tier_opened_at_once_all_get_the_next_change()
    {
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(3));
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await using var watches = await OpenAsync(300, cts.Token);
        Assert.True(Hub.Watchers(TierKey) >= watches.Count, $"the hub lists {Hub.Watchers(TierKey)} watches of {TierKey}; {watches.Count} are open");

        var version = await ChangeTierAsync(cts.Token);
        var reached = await watches.ReadUntilAsync(version, cts.Token);
        output.WriteLine($"{watches.Count} watches opened at once; every one reached version {version}: "
            + $"{reached.Count(e => e.Kind == TierEventKind.Change)} by a change, {reached.Count(e => e.Kind == TierEventKind.Snapshot)} by a snapshot");
    }

    [Fact]
    public async Task Watches_of_a_tier_whose_subscription_was_lost_get_the_change_made_while_it_was_down()
    {
        await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(3));
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await using var watches = await OpenAsync(20, cts.Token);
        var resubscribed = ResubscribedLines();

        // The hub's failure path, as a stream error takes it: the subscription is dropped and made again after a backoff.
        Hub.SubscriptionLost(TierKey, new InvalidOperationException("subscription loss simulated by WatchFanoutTests"));
        var version = await ChangeTierAsync(cts.Token);

        await watches.ReadUntilAsync(version, cts.Token);
        while (ResubscribedLines() == resubscribed) await Task.Delay(50, cts.Token);
        output.WriteLine($"all {watches.Count} watches reached version {version}; the hub subscribed again");
    }

    private TierChangeHub Hub => fixture.Silo.Services.GetRequiredService<TierChangeHub>();

    private string TierKey => FleetKeys.Tier(fixture.Silo.Options.Environment, TierName);

    private int ResubscribedLines() =>
        fixture.Logs.Lines.Count(l => l.Contains($"Subscribed again to tier {TierKey}'s changes", StringComparison.Ordinal));

    /// <summary>Opens <paramref name="count"/> watches at once and reads each one's opening snapshot.</summary>
    private async Task<Watches> OpenAsync(int count, CancellationToken ct)
    {
        // One principal holds every watch here: lift its stream limit (16 by default) while this test runs.
        var security = fixture.Silo.Services.GetRequiredService<IOptions<SecurityOptions>>().Value;
        var watches = new Watches(fixture, security, count);
        var fleet = new FleetService.FleetServiceClient(watches.Channel.Intercept(m =>
        {
            m.Add("authorization", "Bearer " + fixture.AdminToken);
            return m;
        }));
        try
        {
            await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
            {
                var call = fleet.WatchTier(new WatchTierRequest { Tier = TierName }, cancellationToken: ct);
                watches.Add(call);
                Assert.True(await call.ResponseStream.MoveNext(ct), "a watch ended before its snapshot");
                Assert.Equal(TierEventKind.Snapshot, call.ResponseStream.Current.Kind);
            }));
            return watches;
        }
        catch
        {
            await watches.DisposeAsync();
            throw;
        }
    }

    /// <summary>A real change of the tier (its decisions paused, then resumed); the version every watch must reach.</summary>
    private async Task<long> ChangeTierAsync(CancellationToken ct)
    {
        var failover = new FailoverService.FailoverServiceClient(fixture.Invoker(fixture.AdminToken));
        try
        {
            // Opening hundreds of watches at once on a loaded machine can starve the silo's catalog check for a few
            // seconds, and commands are refused while the catalog counts as unreachable (docs/catalog.md): wait for it.
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while (true)
            {
                try
                {
                    await failover.PauseTierAsync(new PauseTierRequest { Tier = TierName, Reason = "watch fan-out test" }, cancellationToken: ct);
                    break;
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.Unavailable && DateTime.UtcNow < deadline)
                {
                    output.WriteLine($"PauseTier refused for now: {e.Status.Detail}");
                    await Task.Delay(500, ct);
                }
            }
        }
        finally
        {
            // The tier is shared with the collection's other tests: never leave its decisions paused.
            await failover.ResumeTierAsync(new ResumeTierRequest { Tier = TierName }, cancellationToken: CancellationToken.None);
        }
        return (await fixture.Fleet.GetTierAsync(new GetTierRequest { Tier = TierName }, cancellationToken: ct)).Version;
    }

    private sealed class Watches : IAsyncDisposable
    {
        private readonly List<AsyncServerStreamingCall<TierEvent>> _calls = [];
        private readonly SecurityOptions _security;
        private readonly int _limitBefore;

        public Watches(SiloFixture fixture, SecurityOptions security, int count)
        {
            _security = security;
            _limitBefore = security.MaxStreamsPerPrincipal;
            security.MaxStreamsPerPrincipal = Math.Max(_limitBefore, count + 16);
            // Kestrel allows 100 streams per HTTP/2 connection: the client opens more connections as needed.
            Channel = GrpcChannel.ForAddress(fixture.Endpoint, new GrpcChannelOptions
            {
                HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true },
            });
        }

        public GrpcChannel Channel { get; }

        public int Count
        {
            get
            {
                lock (_calls) return _calls.Count;
            }
        }

        public void Add(AsyncServerStreamingCall<TierEvent> call)
        {
            lock (_calls) _calls.Add(call);
        }

        /// <summary>
        /// Reads every watch until it reaches <paramref name="version"/> (a change, or a snapshot replacing missed
        /// ones); versions only increase. Returns the event that reached it, per watch.
        /// </summary>
        public async Task<TierEvent[]> ReadUntilAsync(long version, CancellationToken ct)
        {
            List<AsyncServerStreamingCall<TierEvent>> calls;
            lock (_calls) calls = [.. _calls];
            return await Task.WhenAll(calls.Select(async call =>
            {
                var last = call.ResponseStream.Current.Version;
                while (true)
                {
                    Assert.True(await call.ResponseStream.MoveNext(ct), "a watch ended");
                    var e = call.ResponseStream.Current;
                    Assert.True(e.Version > last, $"version {e.Version} after {last}");
                    if (e.Version >= version) return e;
                    last = e.Version;
                }
            }));
        }

        public ValueTask DisposeAsync()
        {
            lock (_calls)
            {
                foreach (var call in _calls) call.Dispose();
            }
            Channel.Dispose();
            _security.MaxStreamsPerPrincipal = _limitBefore;
            return ValueTask.CompletedTask;
        }
    }
}
