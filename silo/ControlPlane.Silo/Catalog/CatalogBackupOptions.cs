using ControlPlane.Grains.Backups;

namespace ControlPlane.Silo.Catalog;

/// <summary>
/// Backups of the embedded catalog (<c>ControlPlane:Catalog:Backups</c>): its WAL streamed continuously and base
/// backups on a schedule, into a repository of its own (docs/catalog.md, "Backups of the catalog").
/// </summary>
public sealed class CatalogBackupOptions
{
    /// <summary>The default repository, relative to the data directory: beside the catalog, never inside it.</summary>
    public const string DefaultRepositoryName = "catalog-backups";

    /// <summary>Archive WAL and take base backups at all (only the silo running the embedded catalog's primary instance does: <see cref="CatalogBackupPolicy"/>).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Root of the repository; empty: <c>&lt;data-dir&gt;/catalog-backups</c> (created). A configured one must exist (a mount).</summary>
    public string? Repository { get; set; }

    /// <summary>Cron (5 fields, UTC) of base backups; empty for none (WAL is still archived).</summary>
    public string Schedule { get; set; } = "0 */6 * * *";

    /// <summary>Complete base backups kept; older ones, and the WAL only they needed, are deleted after each backup.</summary>
    public int KeepLast { get; set; } = 8;

    /// <summary>pg_basebackup's client-side compression: lz4, zstd, gzip or none.</summary>
    public string Compression { get; set; } = "lz4";

    /// <summary>The repository root for a silo whose data directory is <paramref name="dataDirectory"/>.</summary>
    public string RepositoryRoot(string dataDirectory) =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(Repository) ? Path.Combine(dataDirectory, DefaultRepositoryName) : Repository);

    internal IEnumerable<string> Validate()
    {
        const string key = "ControlPlane:Catalog:Backups";
        if (Schedule.Length > 0)
        {
            string? error = null;
            try
            {
                BackupPlanner.ParseSchedule($"{key}:Schedule", Schedule);
            }
            catch (ArgumentException ex)
            {
                error = ex.Message;
            }
            if (error is not null) yield return error;
        }
        if (KeepLast is < 1 or > 1000) yield return $"{key}:KeepLast is {KeepLast}; expected 1 to 1000.";
        if (Compression is not ("lz4" or "zstd" or "gzip" or "none"))
            yield return $"{key}:Compression is '{Compression}'; expected lz4, zstd, gzip or none.";
    }
}
