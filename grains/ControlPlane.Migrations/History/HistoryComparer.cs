using ControlPlane.Migrations.Sets;

namespace ControlPlane.Migrations.History;

/// <summary>
/// Compares a target's applied history with a migration set (pure). Pending versions are those above the newest
/// applied one; a set version below it that the target lacks is a gap the history cannot explain (someone applied
/// out of order, or the file was added late): drift, not pending, because applying it now would run it after
/// versions written assuming it already ran.
/// </summary>
public static class HistoryComparer
{
    public static TargetComparison Compare(MigrationSet set, IReadOnlyCollection<AppliedMigration> history)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(history);
        var drift = new List<DriftFinding>();
        var applied = new Dictionary<long, AppliedMigration>();
        foreach (var row in history.OrderBy(r => r.Version).ThenBy(r => r.AppliedAt))
        {
            if (!applied.TryAdd(row.Version, row))
            {
                drift.Add(new DriftFinding(DriftKind.AppliedTwice, row.Version,
                    $"version {row.Version} is recorded twice (change {applied[row.Version].ChangeId} and {row.ChangeId})"));
                continue;
            }
            var migration = set.Find(row.Version);
            if (migration is null)
            {
                drift.Add(new DriftFinding(DriftKind.UnknownVersion, row.Version,
                    $"version {row.Version} was applied by change {row.ChangeId} at {row.AppliedAt:u} but is not in the set"));
            }
            else if (!string.Equals(migration.Forward.Checksum, row.Checksum, StringComparison.OrdinalIgnoreCase))
            {
                drift.Add(new DriftFinding(DriftKind.ChecksumMismatch, row.Version,
                    $"{migration.Forward.FileName} was edited after it was applied: checksum {Short(migration.Forward.Checksum)}, applied {Short(row.Checksum)}"));
            }
        }
        var newest = applied.Count == 0 ? long.MinValue : applied.Keys.Max();
        var pending = new List<long>();
        foreach (var migration in set.Migrations)
        {
            if (applied.ContainsKey(migration.Version))
            {
                continue;
            }
            if (migration.Version < newest)
            {
                drift.Add(new DriftFinding(DriftKind.MissingVersion, migration.Version,
                    $"{migration.Forward.FileName} was never applied, yet version {newest} (newer) was"));
            }
            else
            {
                pending.Add(migration.Version);
            }
        }
        return new TargetComparison(pending, drift.OrderBy(d => d.Version).ThenBy(d => d.Kind).ToArray());
    }

    private static string Short(string checksum) => checksum.Length > 12 ? checksum[..12] : checksum;
}
