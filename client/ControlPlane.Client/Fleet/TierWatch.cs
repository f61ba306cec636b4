// Why this exists: the WatchTier stream promises a snapshot and then changes whose versions
// increase by one. A client that misses one (a dropped message, a silo restart between
// publish and delivery) holds a stale tier and would route to a demoted primary. So every
// gap is healed by re-reading the tier and handing the caller a fresh snapshot, and an
// UNAVAILABLE gateway is retried with capped, jittered exponential backoff; the server's
// snapshot on reconnect covers whatever happened while disconnected.
using System.Runtime.CompilerServices;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

namespace ControlPlane.Client.Fleet;

/// <summary>Follows tiers of one environment as an ordered, gap-free sequence of events.</summary>
public sealed class TierWatch(
    FleetService.FleetServiceClient fleet,
    string environment = "",
    TierWatchOptions? options = null)
{
    private readonly TierWatchOptions options = options ?? new TierWatchOptions();

    /// <summary>
    /// A snapshot of <paramref name="tier"/>, then its changes. After a version gap or a
    /// reconnect the next event is a snapshot (kind <c>SNAPSHOT</c>) of the tier as it is now.
    /// Ends only by cancellation (<see cref="OperationCanceledException"/>) or a non-transient
    /// error (<see cref="RpcException"/>, e.g. <c>NOT_FOUND</c>).
    /// </summary>
    public async IAsyncEnumerable<TierEvent> WatchTierAsync(
        string tier,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tier);
        var sequence = new VersionSequence();
        var failures = 0;
        var seenAny = false;

        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            RpcException? unavailable = null;

            using (var call = fleet.WatchTier(
                       new WatchTierRequest { Environment = environment, Tier = tier },
                       cancellationToken: cancellationToken))
            {
                while (true)
                {
                    TierEvent received;
                    try
                    {
                        if (!await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
                        {
                            break;
                        }

                        received = call.ResponseStream.Current;
                    }
                    catch (RpcException e) when (IsTransient(e))
                    {
                        unavailable = e;
                        break;
                    }
                    catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
                    {
                        throw new OperationCanceledException("The tier watch was cancelled.", e, cancellationToken);
                    }

                    seenAny = true;
                    failures = 0;

                    switch (sequence.Classify(received))
                    {
                        case Continuity.InOrder:
                            yield return received;
                            break;
                        case Continuity.AlreadySeen:
                            break;
                        case Continuity.Gap:
                            Tier current;
                            try
                            {
                                current = await fleet.GetTierAsync(
                                    new GetTierRequest { Environment = environment, Tier = tier },
                                    deadline: DateTime.UtcNow + options.ReadDeadline,
                                    cancellationToken: cancellationToken).ConfigureAwait(false);
                            }
                            catch (RpcException e) when (IsTransient(e))
                            {
                                unavailable = e;
                                break;
                            }
                            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
                            {
                                throw new OperationCanceledException("The tier watch was cancelled.", e, cancellationToken);
                            }

                            var snapshot = Snapshot(current);
                            sequence.Reset(snapshot.Version);
                            yield return snapshot;

                            // The change that revealed the gap may be newer than what we just read
                            // (a lagging silo answered); it carries the full tier state, so take it.
                            var after = sequence.Classify(received);
                            if (after == Continuity.Gap)
                            {
                                sequence.Reset(received.Version);
                            }

                            if (after != Continuity.AlreadySeen)
                            {
                                yield return received;
                            }

                            break;
                    }

                    if (unavailable is not null)
                    {
                        break;
                    }
                }
            }

            if (unavailable is not null && !seenAny && !options.RetryBeforeFirstEvent)
            {
                throw unavailable;
            }

            // A stream the server closed cleanly (silo shutting down) is reopened the same way.
            var delay = Backoff(failures++);
            if (unavailable is not null)
            {
                options.OnReconnecting?.Invoke(unavailable, delay);
            }

            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            sequence.ExpectSnapshot();
        }
    }

    /// <summary>The capped exponential backoff before reconnect attempt <paramref name="attempt"/> (0-based), with jitter.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var exponential = options.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 20));
        var capped = Math.Min(exponential, options.MaxBackoff.TotalMilliseconds);
        // Jitter spreads out the reconnects of many services after a silo restart.
        return TimeSpan.FromMilliseconds(capped * (0.8 + (0.4 * Random.Shared.NextDouble())));
    }

    private static bool IsTransient(RpcException e) => e.StatusCode == StatusCode.Unavailable;

    private static TierEvent Snapshot(Tier tier) => new()
    {
        Kind = TierEventKind.Snapshot,
        TierName = tier.Name,
        Version = tier.Version,
        Tier = tier,
        At = Timestamp.FromDateTime(DateTime.UtcNow),
    };
}
