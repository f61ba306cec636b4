using System.Data;
using System.Diagnostics;
using System.Text.RegularExpressions;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace ControlPlane.Postgres.Backups;

/// <summary>A logical import of one tenant: how long it took and the row counts of its tables afterwards.</summary>
public sealed record TenantImportResult(TimeSpan Duration, IReadOnlyList<TableCount> Counts);

/// <summary>
/// Logical export and import of one tenant, whose data lives in schema <c>tenant_&lt;tenant&gt;</c> of the tier's
/// database. An export is <c>pg_dump -Fc</c> of that schema taken in a snapshot the control plane exported from
/// an open REPEATABLE READ transaction, in which it also counts the schema's tables: the counts describe exactly
/// the rows in the file. An import is one <c>pg_restore --single-transaction</c>, so a failed import changes nothing.
/// </summary>
public sealed partial class TenantDump(ILogger logger, PgBinaries? binaries = null)
{
    private const string SchemaPrefix = "tenant_";
    private const int MaxIdentifierLength = 63;

    /// <summary>How long one pg_dump or pg_restore may run.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(6);

    private PgBinaries Bin => binaries ?? PgBinaries.Shared;

    /// <summary>The schema of <paramref name="tenant"/> (lowercase letters, digits, '_' and '-'; '-' becomes '_').</summary>
    public static string SchemaOf(string tenant)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        if (!TenantName().IsMatch(tenant))
        {
            throw new ArgumentException($"Tenant name '{tenant}' is invalid; expected lowercase letters, digits, '_' and '-'.", nameof(tenant));
        }
        var schema = SchemaPrefix + tenant.Replace('-', '_');
        if (schema.Length > MaxIdentifierLength)
        {
            throw new ArgumentException(
                $"Tenant name '{tenant}' is too long: schema '{schema}' has {schema.Length} characters, PostgreSQL allows {MaxIdentifierLength}.", nameof(tenant));
        }
        return schema;
    }

    /// <summary>Exports <paramref name="tenant"/>'s schema from <paramref name="primary"/> into <paramref name="file"/> (replaced atomically).</summary>
    /// <exception cref="InvalidOperationException">The tenant has no schema there.</exception>
    public async Task<TenantExportResult> ExportAsync(ReplicaEndpoint primary, string tenant, string file, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentException.ThrowIfNullOrEmpty(file);
        var schema = SchemaOf(tenant);
        var target = Path.GetFullPath(file);
        var watch = Stopwatch.StartNew();

        await using var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false);
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct).ConfigureAwait(false);
        // The first query takes the snapshot that pg_dump adopts and that the counts below see.
        var snapshot = (string)(await AdminSql.ScalarAsync(connection, "SELECT pg_export_snapshot()", ct).ConfigureAwait(false))!;
        if (!await SchemaExistsAsync(connection, schema, ct).ConfigureAwait(false))
        {
            throw new InvalidOperationException(
                $"Tenant '{tenant}' has no schema '{schema}' in database '{primary.Database}' of {primary.Tier}/{primary.Name}; nothing to export.");
        }
        var counts = await CountSchemaAsync(connection, primary.Database, schema, ct).ConfigureAwait(false);
        await DumpAsync(primary, schema, snapshot, target, ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);

        var bytes = new FileInfo(target).Length;
        logger.LogInformation("Exported tenant {Tenant} of {Tier}/{Replica} ({Tables} tables, {Bytes} bytes) to {File} in {Elapsed} ms",
            tenant, primary.Tier, primary.Name, counts.Count, bytes, target, watch.ElapsedMilliseconds);
        return new TenantExportResult(target, bytes, watch.Elapsed, counts);
    }

    /// <summary>
    /// Imports an export of <paramref name="tenant"/> into <paramref name="primary"/>'s database. With
    /// <paramref name="replace"/> the schema's objects are dropped and recreated in the same transaction (objects created
    /// in it since the export keep the schema from being dropped: the import then fails and changes nothing);
    /// without it, an existing schema is refused.
    /// </summary>
    public async Task<TenantImportResult> ImportAsync(ReplicaEndpoint primary, string tenant, string file, bool replace, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentException.ThrowIfNullOrEmpty(file);
        var schema = SchemaOf(tenant);
        var source = Path.GetFullPath(file);
        if (!File.Exists(source)) throw new FileNotFoundException($"Export '{source}' of tenant '{tenant}' does not exist.", source);
        await EnsureExportOfAsync(source, tenant, schema, ct).ConfigureAwait(false);
        var watch = Stopwatch.StartNew();

        await using var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false);
        if (!replace && await SchemaExistsAsync(connection, schema, ct).ConfigureAwait(false))
        {
            throw new InvalidOperationException(
                $"Tenant '{tenant}' already has schema '{schema}' in database '{primary.Database}' of {primary.Tier}/{primary.Name}; "
                + "import with replace to overwrite it.");
        }
        logger.LogWarning("Importing tenant {Tenant} into {Tier}/{Replica} from {File}{Replace}",
            tenant, primary.Tier, primary.Name, source, replace ? " (replacing its schema)" : "");
        List<string> args = ["-d", primary.Database, "--single-transaction"];
        if (replace) args.AddRange(["--clean", "--if-exists"]);
        args.Add(source);
        // pg_restore only reads the file and writes nothing, so it runs as whoever may read the export.
        await PgClientTool.RunCheckedAsync(Bin.Tool("pg_restore"), primary, args, asPostgres: false, Timeout, ct).ConfigureAwait(false);

        var counts = await CountSchemaAsync(connection, primary.Database, schema, ct).ConfigureAwait(false);
        logger.LogInformation("Imported tenant {Tenant} into {Tier}/{Replica} ({Tables} tables) in {Elapsed} ms",
            tenant, primary.Tier, primary.Name, counts.Count, watch.ElapsedMilliseconds);
        return new TenantImportResult(watch.Elapsed, counts);
    }

    /// <summary>pg_dump as postgres into a private directory beside the target, then a rename over it.</summary>
    private async Task DumpAsync(ReplicaEndpoint primary, string schema, string snapshot, string target, CancellationToken ct)
    {
        var directory = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(directory);
        var work = Path.Combine(directory, $".{Path.GetFileName(target)}.tmp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            await OsUser.GiveToPostgresAsync(work, recursive: false, ct).ConfigureAwait(false);
            await OsUser.EnsureAncestorsTraversableAsync(work, logger, ct).ConfigureAwait(false);
            var dump = Path.Combine(work, "dump");
            // The schema name holds only [a-z0-9_], none of which a pg_dump pattern treats specially.
            await PgClientTool.RunCheckedAsync(Bin.Tool("pg_dump"), primary,
                ["-d", primary.Database, "-Fc", "--strict-names", "-n", schema, "--snapshot", snapshot, "-f", dump],
                asPostgres: true, Timeout, ct).ConfigureAwait(false);
            File.Move(dump, target, overwrite: true);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>Refuses a file that is not an export of exactly this tenant's schema (pg_restore --list of its contents).</summary>
    private async Task EnsureExportOfAsync(string source, string tenant, string schema, CancellationToken ct)
    {
        var listing = await ProcessRunner.RunCheckedAsync(
            new ProcessSpec(Bin.Tool("pg_restore"), ["--list", source]) { Timeout = TimeSpan.FromMinutes(5) }, ct).ConfigureAwait(false);
        // Entry lines read "<id>; <catalog oid> <oid> <type> <namespace> <name> <owner>"; schemas have type SCHEMA.
        var schemas = listing.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.StartsWith(';'))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length >= 6 && fields[3] == "SCHEMA")
            .Select(fields => fields[5])
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (schemas is not [var only] || only != schema)
        {
            throw new InvalidDataException(
                $"'{source}' is not an export of tenant '{tenant}': it holds schemas [{string.Join(", ", schemas)}], expected only '{schema}'.");
        }
    }

    private static async Task<bool> SchemaExistsAsync(NpgsqlConnection connection, string schema, CancellationToken ct) =>
        (bool)(await AdminSql.ScalarAsync(connection, TableSql.SchemaExists, ct, schema).ConfigureAwait(false))!;

    private static async Task<List<TableCount>> CountSchemaAsync(NpgsqlConnection connection, string database, string schema, CancellationToken ct) =>
        await TableSql.CountAllAsync(connection, database,
            await TableSql.ListAsync(connection, TableSql.SchemaTables, ct, schema).ConfigureAwait(false), ct).ConfigureAwait(false);

    [GeneratedRegex("^[a-z0-9_-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex TenantName();
}
