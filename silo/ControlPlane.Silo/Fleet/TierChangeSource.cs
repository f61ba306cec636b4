using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using Orleans.Streams;

namespace ControlPlane.Silo.Fleet;

/// <summary>Where a tier's changes come from: one subscription per call, ended by disposing it.</summary>
internal interface ITierChangeSource
{
    /// <param name="tierKey">The tier's grain key (<see cref="FleetKeys.Tier"/>).</param>
    /// <param name="onChange">Called once per change, one call at a time, in the tier's order; must not block.</param>
    /// <param name="onError">Called when the subscription stopped delivering.</param>
    Task<IAsyncDisposable> SubscribeAsync(string tierKey, Action<TierChanged> onChange, Action<Exception> onError, CancellationToken ct);
}

/// <summary>The tiers' Orleans streams: each subscription is one consumer registered with the stream's pub-sub grain.</summary>
internal sealed class OrleansTierChangeSource(IClusterClient client) : ITierChangeSource
{
    public async Task<IAsyncDisposable> SubscribeAsync(string tierKey, Action<TierChanged> onChange, Action<Exception> onError, CancellationToken ct)
    {
        var stream = client.GetStreamProvider(FleetKeys.StreamProvider)
            .GetStream<TierChanged>(StreamId.Create(FleetKeys.TierStreamNamespace, tierKey));
        var handle = await stream.SubscribeAsync(
            (change, _) =>
            {
                onChange(change);
                return Task.CompletedTask;
            },
            ex =>
            {
                onError(ex);
                return Task.CompletedTask;
            }).WaitAsync(ct);
        return new Subscription(handle);
    }

    private sealed class Subscription(StreamSubscriptionHandle<TierChanged> handle) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await handle.UnsubscribeAsync();
    }
}
