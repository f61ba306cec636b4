using ControlPlane.Postgres.Fleet;

namespace ControlPlane.Silo.Catalog;

/// <summary>What one silo knows when it decides whether it backs up the embedded catalog.</summary>
/// <param name="Enabled"><c>ControlPlane:Catalog:Backups:Enabled</c> on this silo.</param>
/// <param name="Embedded">The catalog is embedded (this silo provisioned it or joined it); false for an external one.</param>
/// <param name="LocalInstances">The catalog instances this silo runs (<c>catalog</c>, <c>catalog-standby</c>).</param>
/// <param name="Manifest">The catalog's manifest; null when it cannot be read (<paramref name="ManifestProblem"/> says why).</param>
/// <param name="FirstDataDirectory">Data directory of the first instance (<c>catalog</c>), for naming where it is.</param>
public sealed record CatalogBackupView(
    bool Enabled, bool Embedded, IReadOnlyList<string> LocalInstances, CatalogManifest? Manifest, string FirstDataDirectory, string? ManifestProblem = null);

/// <summary>The instance this silo backs up (its WAL archived, base backups taken from it), or why it backs up nothing.</summary>
public sealed record CatalogBackupDuty(string? Instance, string? DisabledReason)
{
    public bool BacksUp => Instance is not null;
}

/// <summary>
/// Which silo backs up the embedded catalog, pure: the one that runs the instance the manifest names primary
/// (<see cref="CatalogManifest.PrimaryName"/>). The manifest is written before a promotion, so after one the new
/// primary's silo takes the archive over and the old primary's silo stands down (a primary rewound into a standby
/// must not archive: its WAL is the new primary's, streamed a second time). Every other silo says where backups run.
/// </summary>
public static class CatalogBackupPolicy
{
    public static CatalogBackupDuty Decide(CatalogBackupView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        if (!view.Embedded)
            return new(null, "this silo runs no embedded catalog (an external catalog is backed up by whoever runs it)");
        if (!view.Enabled) return new(null, "ControlPlane:Catalog:Backups:Enabled is false");
        if (view.Manifest is not { } manifest)
            return new(null, $"the catalog's manifest cannot be read ({view.ManifestProblem ?? "missing"}), so this silo cannot tell which instance is primary");
        var primary = manifest.PrimaryName;
        if (view.LocalInstances.Contains(primary, StringComparer.Ordinal)) return new(primary, null);
        var where = manifest.Members(view.FirstDataDirectory).FirstOrDefault(m => m.Name == primary);
        var place = where is null ? "" : $" ({where.Host}:{where.Port}, data directory {where.DataDirectory})";
        var here = view.LocalInstances.Count == 0 ? "this silo runs no catalog instance"
            : $"this silo runs {string.Join(", ", view.LocalInstances)}, not the primary";
        return new(null, $"catalog backups run on the silo that runs the catalog primary '{primary}'{place}; {here}");
    }
}
