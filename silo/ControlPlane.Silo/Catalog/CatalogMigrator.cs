// Applies the catalog's versioned SQL migrations (Catalog/Migrations/NNNN_name.sql, embedded
// in this assembly) to the control plane's own PostgreSQL database.
//
// Why this shape:
// - The Orleans AdoNet providers ship no SQL; our schema and their OrleansQuery rows live in
//   these scripts, so every silo applies them before Orleans starts.
// - Several silos may start at once against one catalog. Every transaction below first takes
//   the same transaction-scoped advisory lock, so exactly one silo applies a migration and the
//   others wait, then see it recorded and skip it. The lock ends with the transaction, so a
//   crashed silo never leaves it held.
// - Each migration runs in its own transaction together with its bookkeeping row: it is
//   either applied and recorded, or neither.
// - A migration that was applied must never change afterwards (the other silos and the data
//   already depend on it). Its SHA-256 is recorded and compared on every start; a mismatch
//   stops the silo with an error naming the file instead of silently diverging. Line endings
//   are normalised before hashing so a CRLF checkout does not count as a change.
// - Versions recorded in the database but unknown to this build are tolerated: during a rolling
//   upgrade older silos keep running against a schema a newer silo already extended.

using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;

namespace ControlPlane.Silo.Catalog;

/// <summary>Applies the embedded catalog migrations in version order, once per database.</summary>
public sealed partial class CatalogMigrator
{
    /// <summary>Key of the advisory lock that serialises migrations across silos ("cpcatlog").</summary>
    internal const long MigrationLockKey = 0x6370_6361_746C_6F67;

    /// <summary>Bookkeeping statements are tiny; waiting on the lock is the only slow part.</summary>
    private static readonly TimeSpan BookkeepingTimeout = TimeSpan.FromSeconds(60);

    /// <summary>A migration may create indexes on existing data; give it room, but not forever.</summary>
    private static readonly TimeSpan MigrationTimeout = TimeSpan.FromMinutes(5);

    private const string AcquireLockSql = "SELECT pg_advisory_xact_lock(@key)";

    private const string CreateHistoryTableSql = """
        CREATE TABLE IF NOT EXISTS controlplane_schema_migrations
        (
            version    integer     NOT NULL PRIMARY KEY,
            name       text        NOT NULL,
            checksum   text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """;

    private const string ReadAppliedChecksumSql =
        "SELECT checksum FROM controlplane_schema_migrations WHERE version = @version";

    private const string RecordAppliedSql = """
        INSERT INTO controlplane_schema_migrations (version, name, checksum, applied_at)
        VALUES (@version, @name, @checksum, now())
        """;

    /// <summary>Resource names end in "Catalog.Migrations.NNNN_name.sql" whatever the root namespace.</summary>
    [GeneratedRegex(@"(?:^|\.)Catalog\.Migrations\.(?<version>\d{4})_(?<name>[a-z0-9_]+)\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex MigrationResourceName();

    private readonly Assembly _source;

    /// <summary>Reads migrations from the assembly that contains this type.</summary>
    public CatalogMigrator()
        : this(typeof(CatalogMigrator).Assembly)
    {
    }

    /// <summary>Reads migrations from <paramref name="source"/> (tests embed their own).</summary>
    public CatalogMigrator(Assembly source)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
    }

    /// <summary>
    /// Applies every embedded migration not yet recorded in <c>controlplane_schema_migrations</c>,
    /// in version order, and returns the names of those applied by this call (empty when the
    /// catalog was already current).
    /// </summary>
    /// <exception cref="InvalidOperationException">An applied migration's script changed, or the
    /// embedded migrations are malformed (duplicate versions, none found).</exception>
    public async Task<IReadOnlyList<string>> ApplyAsync(NpgsqlDataSource catalog, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var migrations = LoadMigrations();

        await using var connection = await catalog.OpenConnectionAsync(ct).ConfigureAwait(false);
        await EnsureHistoryTableAsync(connection, ct).ConfigureAwait(false);

        var applied = new List<string>();
        foreach (var migration in migrations)
        {
            if (await ApplyOneAsync(connection, migration, ct).ConfigureAwait(false))
            {
                applied.Add(migration.Name);
            }
        }

        return applied;
    }

    /// <summary>The embedded migrations, ordered by version.</summary>
    public IReadOnlyList<CatalogMigration> LoadMigrations()
    {
        var migrations = new List<CatalogMigration>();
        foreach (var resource in _source.GetManifestResourceNames())
        {
            var match = MigrationResourceName().Match(resource);
            if (!match.Success)
            {
                continue;
            }

            using var stream = _source.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"Embedded migration '{resource}' could not be opened.");
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var script = reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal);

            var version = int.Parse(match.Groups["version"].Value, NumberStyles.None, CultureInfo.InvariantCulture);
            var name = $"{match.Groups["version"].Value}_{match.Groups["name"].Value}";
            var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(script)));
            migrations.Add(new CatalogMigration(version, name, checksum, script));
        }

        if (migrations.Count == 0)
        {
            throw new InvalidOperationException(
                $"No catalog migrations are embedded in assembly '{_source.GetName().Name}'; expected resources named '*.Catalog.Migrations.NNNN_name.sql'.");
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 1; i < migrations.Count; i++)
        {
            if (migrations[i].Version == migrations[i - 1].Version)
            {
                throw new InvalidOperationException(
                    $"Catalog migrations '{migrations[i - 1].Name}' and '{migrations[i].Name}' share version {migrations[i].Version}; each version must be unique.");
            }
        }

        return migrations;
    }

    private static async Task EnsureHistoryTableAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        // Under the lock: two sessions racing on CREATE TABLE IF NOT EXISTS can still collide
        // on the catalog's unique indexes.
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await AcquireLockAsync(connection, tx, ct).ConfigureAwait(false);
        await using (var create = new NpgsqlCommand(CreateHistoryTableSql, connection, tx))
        {
            create.CommandTimeout = Seconds(BookkeepingTimeout);
            await create.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Applies one migration unless recorded; returns whether it was applied now.</summary>
    private static async Task<bool> ApplyOneAsync(NpgsqlConnection connection, CatalogMigration migration, CancellationToken ct)
    {
        await using var tx = await connection.BeginTransactionAsync(ct).ConfigureAwait(false);
        await AcquireLockAsync(connection, tx, ct).ConfigureAwait(false);

        string? recordedChecksum;
        await using (var read = new NpgsqlCommand(ReadAppliedChecksumSql, connection, tx))
        {
            read.CommandTimeout = Seconds(BookkeepingTimeout);
            read.Parameters.AddWithValue("version", migration.Version);
            recordedChecksum = (string?)await read.ExecuteScalarAsync(ct).ConfigureAwait(false);
        }

        if (recordedChecksum is not null)
        {
            if (!string.Equals(recordedChecksum, migration.Checksum, StringComparison.Ordinal))
            {
                throw new InvalidOperationException(
                    $"Catalog migration '{migration.Name}' (version {migration.Version}) was applied with checksum " +
                    $"{recordedChecksum} but the embedded script now has checksum {migration.Checksum}. Applied " +
                    "migrations must not be edited; revert the change and add a new migration instead.");
            }

            await tx.RollbackAsync(ct).ConfigureAwait(false);
            return false;
        }

        await using (var apply = new NpgsqlCommand(migration.Script, connection, tx))
        {
            apply.CommandTimeout = Seconds(MigrationTimeout);
            await apply.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        await using (var record = new NpgsqlCommand(RecordAppliedSql, connection, tx))
        {
            record.CommandTimeout = Seconds(BookkeepingTimeout);
            record.Parameters.AddWithValue("version", migration.Version);
            record.Parameters.AddWithValue("name", migration.Name);
            record.Parameters.AddWithValue("checksum", migration.Checksum);
            await record.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }

        await tx.CommitAsync(ct).ConfigureAwait(false);
        return true;
    }

    private static async Task AcquireLockAsync(NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(AcquireLockSql, connection, tx);
        command.CommandTimeout = Seconds(BookkeepingTimeout);
        command.Parameters.AddWithValue("key", MigrationLockKey);
        await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static int Seconds(TimeSpan timeout) => (int)timeout.TotalSeconds;
}

/// <summary>One embedded migration script.</summary>
/// <param name="Version">The NNNN prefix of the file name; applied in ascending order.</param>
/// <param name="Name">The file name without extension, e.g. <c>0001_orleans_clustering</c>.</param>
/// <param name="Checksum">Lower-case hex SHA-256 of the script with LF line endings.</param>
/// <param name="Script">The SQL text.</param>
public sealed record CatalogMigration(int Version, string Name, string Checksum, string Script);
