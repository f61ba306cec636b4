using ControlPlane.Postgres.Fleet;

namespace ControlPlane.Grains.Health;

/// <summary>
/// A standby broken beyond streaming: the primary invalidated its physical slot (<c>wal_status = 'lost'</c>, past
/// <c>max_slot_wal_keep_size</c>), so the WAL it needs is gone ("requested WAL segment ... has already been
/// removed") and it can never catch up by streaming. Such a standby is never promoted (its data stops at the gap)
/// and is rebuilt from a fresh base backup. The primary's slot state is the signal: the standby's own view (a WAL
/// receiver that keeps failing) looks the same as a primary that is merely restarting. Pure.
/// </summary>
public static class BrokenStandby
{
    /// <summary>Why <paramref name="standby"/> is broken beyond streaming, or null when the primary's last writable
    /// probe (<paramref name="primary"/>) shows its slot intact.</summary>
    public static string? Reason(string standby, string primaryName, ReplicaHealth? primary)
    {
        ArgumentException.ThrowIfNullOrEmpty(standby);
        if (standby == primaryName || primary?.LostSlots is not { Count: > 0 } lost) return null;
        var slot = LocalFleetOptions.SlotName(standby);
        return lost.Contains(slot, StringComparer.Ordinal)
            ? $"broken beyond streaming: its slot {slot} on primary {primaryName} is lost (wal_status 'lost'; the WAL it needs was removed); it must be rebuilt"
            : null;
    }
}
