using Grpc.Core;

namespace ControlPlane.Client.Fleet;

/// <summary>How a <see cref="TierWatch"/> re-reads and reconnects.</summary>
public sealed record TierWatchOptions
{
    /// <summary>Wait before the first reconnect after the gateway became unavailable.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Ceiling of the exponentially growing wait between reconnects.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Deadline of the <c>GetTier</c> re-read after a version gap.</summary>
    public TimeSpan ReadDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Whether to keep retrying when the very first connection fails. Services starting next
    /// to a restarting silo want that; an interactive tool wants to say "unreachable" at once.
    /// </summary>
    public bool RetryBeforeFirstEvent { get; init; } = true;

    /// <summary>Called before each reconnect wait, so a caller can log or show it.</summary>
    public Action<RpcException, TimeSpan>? OnReconnecting { get; init; }
}
