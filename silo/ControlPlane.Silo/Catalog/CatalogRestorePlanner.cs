using System.Globalization;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Fleet;

namespace ControlPlane.Silo.Catalog;

/// <summary>Which backup a catalog restore starts from, or why none can: decided before anything is touched. Pure.</summary>
public static class CatalogRestorePlanner
{
    /// <summary>A chosen base, or the refusal (naming the argument, the value and what was expected).</summary>
    public sealed record Plan(CatalogBackupEntry? Backup, string? Refusal);

    /// <param name="backups">The repository's complete backups.</param>
    /// <param name="backupId">The backup an operator named; null: the newest that can reach the target.</param>
    public static Plan Choose(IReadOnlyList<CatalogBackupEntry> backups, string? backupId, RecoveryTarget target, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(backups);
        ArgumentNullException.ThrowIfNull(target);
        if (backups.Count == 0) return new(null, "the catalog repository holds no complete base backup; nothing to restore from.");
        var ordered = backups.OrderBy(b => b.FinishedAt).ToList();
        if (target is { Kind: RecoveryTargetKind.Time, Time: { } time })
        {
            if (time > now) return new(null, $"--target {Text(time)} is in the future (now {Text(now)}); expected a past time, or 'latest'.");
            // Recovery can stop no earlier than where its base backup became consistent: its end.
            if (time < ordered[0].FinishedAt)
            {
                return new(null, $"--target {Text(time)} is before the oldest catalog backup ({ordered[0].Id}, complete at {Text(ordered[0].FinishedAt)}); "
                    + "no backup can reach it. Expected a time after that, or 'latest'.");
            }
        }
        if (backupId is not null)
        {
            var named = ordered.FirstOrDefault(b => b.Id == backupId);
            if (named is null)
            {
                return new(null, $"--backup '{backupId}' is not a complete backup in the catalog repository; expected one of: {string.Join(", ", ordered.Select(b => b.Id))}.");
            }
            if (target is { Kind: RecoveryTargetKind.Time, Time: { } t } && t < named.FinishedAt)
            {
                return new(null, $"--target {Text(t)} is before backup {named.Id} was complete ({Text(named.FinishedAt)}); name an older backup or leave --backup out.");
            }
            return new(named, null);
        }
        var chosen = target is { Kind: RecoveryTargetKind.Time, Time: { } at }
            ? ordered.Last(b => b.FinishedAt <= at)
            : ordered[^1];
        return new(chosen, null);
    }

    /// <summary>Parses <c>--target</c>: <c>latest</c>, <c>immediate</c> (the backup's own end) or a time with a zone.</summary>
    public static RecoveryTarget? ParseTarget(string text, out string? error)
    {
        error = null;
        switch (text)
        {
            case "latest": return RecoveryTarget.Latest;
            case "immediate": return RecoveryTarget.Immediate;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time))
        {
            return new RecoveryTarget(RecoveryTargetKind.Time, Time: time);
        }
        error = $"--target '{text}' is not valid; expected latest, immediate or a time such as 2026-12-06T14:05:00Z.";
        return null;
    }

    /// <summary>
    /// The manifest after a restore: the restored first instance (<c>catalog</c>) is the primary, whatever a promotion
    /// had decided before, since the standby's history is not the restored one and it is rebuilt from it. Nothing is
    /// lowered (the promotions counted stay counted). With a synchronous standby the replication is marked degraded
    /// (<see cref="CatalogManifest.SynchronousDegradedSince"/>): the rebuilt standby holds nothing until it has caught up,
    /// so it is not promoted before (the primary's silo clears the mark then, CatalogSynchronyKeeper).
    /// </summary>
    public static CatalogManifest AfterRestore(CatalogManifest manifest, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.Standbys is not { Count: > 0 } || manifest.Asynchronous)
            return manifest.PrimaryName == CatalogInstance.PrimaryName ? manifest : manifest with { Primary = CatalogInstance.PrimaryName };
        return manifest with
        {
            Primary = CatalogInstance.PrimaryName,
            SynchronousDegradedSince = manifest.SynchronousDegradedSince ?? now,
            SynchronousDegradedReason = $"catalog restored at {Text(now)}: the standby is rebuilt from the restored primary",
        };
    }

    private static string Text(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
