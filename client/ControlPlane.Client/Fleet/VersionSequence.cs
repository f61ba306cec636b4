using ControlPlane.Protos.V1;

namespace ControlPlane.Client.Fleet;

/// <summary>Where an event stands against the versions already delivered.</summary>
public enum Continuity
{
    /// <summary>The next version (or a snapshot): deliver it.</summary>
    InOrder,

    /// <summary>At or below the last delivered version: drop it.</summary>
    AlreadySeen,

    /// <summary>Versions are missing before it: re-read the tier.</summary>
    Gap,
}

/// <summary>Tracks the last delivered version of one tier's event stream.</summary>
public sealed class VersionSequence
{
    private long? last;

    /// <summary>The last delivered version, or null before the first event.</summary>
    public long? Last => last;

    /// <summary>Classifies <paramref name="tierEvent"/> and, when it is to be delivered, records its version.</summary>
    public Continuity Classify(TierEvent tierEvent)
    {
        ArgumentNullException.ThrowIfNull(tierEvent);

        if (tierEvent.Kind == TierEventKind.Snapshot)
        {
            // A snapshot is complete state: whatever came before, it is the new base.
            last = tierEvent.Version;
            return Continuity.InOrder;
        }

        if (last is null)
        {
            // A change with no base state to apply it to.
            return Continuity.Gap;
        }

        if (tierEvent.Version <= last)
        {
            return Continuity.AlreadySeen;
        }

        if (tierEvent.Version == last + 1)
        {
            last = tierEvent.Version;
            return Continuity.InOrder;
        }

        return Continuity.Gap;
    }

    /// <summary>Continue after a re-read that produced state at <paramref name="version"/>.</summary>
    public void Reset(long version) => last = version;

    /// <summary>Forget the position; the next event must be a snapshot (or it counts as a gap).</summary>
    public void ExpectSnapshot() => last = null;
}
