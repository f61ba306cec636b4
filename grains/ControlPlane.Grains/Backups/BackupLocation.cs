using ControlPlane.Postgres.Backups;

namespace ControlPlane.Grains.Backups;

/// <summary>Where a backup and its tier's WAL archive are on disk: its primary repository, or the second one when the first lost it (another region).</summary>
public static class BackupLocation
{
    public static (string Backup, string Wal) Find(BackupRecord backup, BackupPolicy policy, string env, string tier)
    {
        ArgumentNullException.ThrowIfNull(backup);
        ArgumentNullException.ThrowIfNull(policy);
        foreach (var root in backup.Repositories.Append(policy.Repository).Append(policy.SecondRepository).Where(r => r.Length > 0).Distinct())
        {
            var repository = new TierRepository(root, env, tier);
            if (Directory.Exists(repository.BackupDirectory(backup.Id))) return (repository.BackupDirectory(backup.Id), repository.WalDirectory);
        }
        throw new InvalidOperationException($"backup {backup.Id} is in none of its repositories ({string.Join(", ", backup.Repositories)}).");
    }
}
