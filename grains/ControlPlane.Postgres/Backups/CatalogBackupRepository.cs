using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Backups;

/// <summary>One complete base backup of the catalog, as its repository holds it.</summary>
/// <param name="StartedAt">When pg_basebackup started (the manifest's backup_label time; the finish time when absent).</param>
/// <param name="FinishedAt">When the backup was complete (its manifest was written).</param>
public sealed record CatalogBackupEntry(
    string Id, string Directory, int Timeline, ulong StartLsn, ulong StopLsn, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, long Bytes);

/// <summary>
/// The catalog's repository: <c>&lt;root&gt;/&lt;cluster id&gt;/catalog/base/&lt;id&gt;/</c> and <c>.../wal/</c>, the
/// layout of a tier's (<see cref="TierRepository"/>). The directory is the record: no list of backups is kept
/// anywhere else (not in the catalog, which is what a restore replaces), so a restore needs nothing but the files.
/// </summary>
public sealed class CatalogBackupRepository(string root, string clusterId)
{
    public const string TierName = "catalog";

    public TierRepository Repository { get; } = new(root, clusterId, TierName);

    /// <summary>Complete backups (a manifest, not <c>.partial</c>), oldest first. Unreadable ones are skipped.</summary>
    public IReadOnlyList<CatalogBackupEntry> List()
    {
        if (!Directory.Exists(Repository.BaseDirectory)) return [];
        var found = new List<CatalogBackupEntry>();
        foreach (var dir in Directory.GetDirectories(Repository.BaseDirectory))
        {
            if (dir.EndsWith(BaseBackupRunner.PartialSuffix, StringComparison.Ordinal)) continue;
            var manifest = Path.Combine(dir, BackupArchives.ManifestFile);
            if (!File.Exists(manifest)) continue;
            try
            {
                var range = BackupManifest.Parse(File.ReadAllText(manifest));
                var finished = new DateTimeOffset(File.GetLastWriteTimeUtc(manifest), TimeSpan.Zero);
                found.Add(new CatalogBackupEntry(Path.GetFileName(dir), dir, range.Timeline, range.StartLsn, range.StopLsn,
                    range.StartedAt ?? finished, finished, BackupArchives.StoredBytes(dir)));
            }
            catch (Exception ex) when (ex is IOException or FormatException or System.Text.Json.JsonException or UnauthorizedAccessException)
            {
                // A damaged manifest: not restorable, so not listed; it stays on disk for a human.
            }
        }
        return found.OrderBy(b => b.FinishedAt).ToList();
    }

    /// <summary>A backup id for now, unique in this repository (<c>20261206T141500Z</c>, then <c>-2</c>, ...).</summary>
    public string NewId(DateTimeOffset now)
    {
        var stem = now.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        var id = stem;
        for (var n = 2; Directory.Exists(Repository.BackupDirectory(id)) || Directory.Exists(Repository.BackupDirectory(id) + BaseBackupRunner.PartialSuffix); n++)
        {
            id = $"{stem}-{n}";
        }
        return id;
    }

    /// <summary>
    /// The replicator role on the catalog (which does not replicate otherwise), with the password in
    /// <paramref name="passwordFile"/> (created when missing): pg_basebackup and pg_receivewal log in as it.
    /// </summary>
    public static async Task EnsureReplicatorAsync(ReplicaEndpoint catalogSuperuser, string passwordFile, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(catalogSuperuser);
        await SecretFile.EnsureAsync(passwordFile, ct).ConfigureAwait(false);
        var verifier = SecretFile.ScramSha256Verifier(SecretFile.Read(passwordFile));
        await using var connection = await AdminSql.OpenAsync(catalogSuperuser, ct).ConfigureAwait(false);
        var exists = (bool)(await AdminSql.ScalarAsync(connection, AdminSql.RoleExists, ct, InstanceConfig.ReplicationUser).ConfigureAwait(false))!;
        await AdminSql.ExecuteFormattedAsync(connection, exists ? AdminSql.AlterReplicationRole : AdminSql.CreateReplicationRole,
            ct, InstanceConfig.ReplicationUser, verifier).ConfigureAwait(false);
    }

    /// <summary>Creates the default repository root (a configured one must exist: it stands for a mount), then its directories.</summary>
    public async Task EnsureDirectoriesAsync(bool createRoot, ILogger logger, CancellationToken ct)
    {
        if (createRoot && !Directory.Exists(Repository.Root)) UnixFile.CreateDirectory(Repository.Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await RepositoryDirectories.EnsureAsync(Repository, logger, ct).ConfigureAwait(false);
    }
}
