using ControlPlane.Grains.Health;

namespace ControlPlane.Grains.Backups;

/// <summary>
/// Which replica a base backup is taken from. With <see cref="BackupSource.BestStandby"/> the primary does not pay for
/// the copy: the healthy standby that replayed the most WAL is chosen, and the primary when no standby is usable, so a
/// degraded tier is still backed up.
/// </summary>
public static class BackupSourcePolicy
{
    public static string? Choose(BackupSource source, TierSnapshot tier)
    {
        ArgumentNullException.ThrowIfNull(tier);
        var primary = tier.Replicas.FirstOrDefault(r => r.Name == tier.Primary && r.Reachable && r.Role == ReplicaRole.Primary);
        if (source == BackupSource.BestStandby)
        {
            var standby = tier.Replicas
                .Where(r => r.Name != tier.Primary && r.Healthy && r.Reachable && r.Role == ReplicaRole.Standby && r.ReplayLsn is not null)
                .OrderByDescending(r => r.ReplayLsn)
                .ThenBy(r => r.Name, StringComparer.Ordinal)
                .FirstOrDefault();
            if (standby is not null) return standby.Name;
        }
        return primary?.Name;
    }
}
