using System.Globalization;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// The sanity checks of a restore drill, run against the restored instance. A check that fails is reported, never
/// thrown: a drill wants every verdict, and one broken database must not hide what the others say.
/// </summary>
public static class DrillChecks
{
    public const string Starts = "starts";
    public const string Catalog = "catalog";
    public const string RowCounts = "row counts";
    public const string Amcheck = "amcheck";
    public const string AmcheckSkipped = "pg_amcheck not available, skipped";

    private static readonly TimeSpan AmcheckTimeout = TimeSpan.FromHours(6);

    private const string InRecovery = "SELECT pg_is_in_recovery()";
    private const string NonTemplateDatabases = "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname";
    private const string RelationCount = "SELECT count(*) FROM pg_class";
    private const string InvalidIndexes = """
        SELECT format('%I.%I', n.nspname, c.relname)
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT i.indisvalid
        ORDER BY 1
        """;

    /// <summary>Runs, in order, <see cref="Starts"/>, <see cref="Catalog"/>, <see cref="RowCounts"/> (against <paramref name="expected"/>) and <see cref="Amcheck"/>.</summary>
    public static async Task<IReadOnlyList<DrillCheck>> RunAsync(
        ReplicaEndpoint restored, IReadOnlyList<TableCount> expected, PgBinaries? binaries, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(restored);
        ArgumentNullException.ThrowIfNull(expected);
        return
        [
            await ReportAsync(Starts, () => StartsAsync(restored, ct)).ConfigureAwait(false),
            await ReportAsync(Catalog, () => CatalogAsync(restored, ct)).ConfigureAwait(false),
            await ReportAsync(RowCounts, () => RowCountsAsync(restored, expected, ct)).ConfigureAwait(false),
            await ReportAsync(Amcheck, () => AmcheckAsync(restored, binaries, ct)).ConfigureAwait(false),
        ];
    }

    /// <summary>"db.table expected N found M" for each table whose count differs, in order.</summary>
    public static IReadOnlyList<string> Mismatches(IReadOnlyList<TableCount> expected, IReadOnlyList<TableCount> found)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(found);
        return expected.Zip(found)
            .Where(p => p.First.Rows != p.Second.Rows)
            .Select(p => string.Create(CultureInfo.InvariantCulture,
                $"{p.First.Database}.{p.First.Table} expected {p.First.Rows} found {p.Second.Rows}{(p.Second.Rows < 0 ? " (no such table)" : "")}"))
            .ToList();
    }

    private static async Task<DrillCheck> ReportAsync(string name, Func<Task<(bool Passed, string Detail)>> check)
    {
        try
        {
            var (passed, detail) = await check().ConfigureAwait(false);
            return new DrillCheck(name, passed, detail);
        }
        catch (Exception e) when (e is NpgsqlException or ProcessFailedException or TimeoutException or IOException
                                      or InvalidOperationException or InvalidDataException or UnauthorizedAccessException)
        {
            return new DrillCheck(name, false, e.Message);
        }
    }

    private static async Task<(bool, string)> StartsAsync(ReplicaEndpoint restored, CancellationToken ct)
    {
        await using var connection = await AdminSql.OpenAsync(restored, ct).ConfigureAwait(false);
        var inRecovery = (bool)(await AdminSql.ScalarAsync(connection, InRecovery, ct).ConfigureAwait(false))!;
        return inRecovery
            ? (false, $"accepts connections (PostgreSQL {connection.PostgreSqlVersion}) but is still in recovery")
            : (true, $"accepts connections (PostgreSQL {connection.PostgreSqlVersion}), not in recovery");
    }

    private static async Task<(bool, string)> CatalogAsync(ReplicaEndpoint restored, CancellationToken ct)
    {
        List<string> databases;
        await using (var admin = await AdminSql.OpenAsync(restored, ct).ConfigureAwait(false))
        {
            databases = await TableSql.ListAsync(admin, NonTemplateDatabases, ct).ConfigureAwait(false);
        }
        var problems = new List<string>();
        long relations = 0;
        foreach (var database in databases)
        {
            try
            {
                await using var connection = await AdminSql.OpenAsync(AdminSql.ConnectionString(restored, database), ct).ConfigureAwait(false);
                relations += (long)(await AdminSql.ScalarAsync(connection, RelationCount, ct).ConfigureAwait(false))!;
                var invalid = await TableSql.ListAsync(connection, InvalidIndexes, ct).ConfigureAwait(false);
                problems.AddRange(invalid.Select(index => $"{database}: invalid index {index}"));
            }
            catch (NpgsqlException e)
            {
                problems.Add($"{database}: {e.Message}");
            }
        }
        return problems.Count == 0
            ? (true, $"{databases.Count} databases connectable, {relations} relations, no invalid indexes")
            : (false, string.Join("; ", problems));
    }

    private static async Task<(bool, string)> RowCountsAsync(ReplicaEndpoint restored, IReadOnlyList<TableCount> expected, CancellationToken ct)
    {
        if (expected.Count == 0) return (true, "no counts were recorded; nothing to compare");
        var found = await ConsistentCounts.CountAsync(restored, expected, ct).ConfigureAwait(false);
        var mismatches = Mismatches(expected, found);
        return mismatches.Count == 0
            ? (true, $"{expected.Count} tables match")
            : (false, string.Join("; ", mismatches));
    }

    private static async Task<(bool, string)> AmcheckAsync(ReplicaEndpoint restored, PgBinaries? binaries, CancellationToken ct)
    {
        string tool;
        try
        {
            tool = (binaries ?? PgBinaries.Shared).Tool("pg_amcheck");
        }
        catch (FileNotFoundException)
        {
            return (true, AmcheckSkipped);
        }
        var result = await PgClientTool.RunAsync(tool, restored,
            ["--maintenance-db", restored.Database, "--all", "--install-missing", "--heapallindexed"],
            asPostgres: true, AmcheckTimeout, ct).ConfigureAwait(false);
        var said = (result.StandardOutput + result.StandardError).Trim();
        return result.Succeeded
            ? (true, "heap and every btree index of all databases checked (heapallindexed), no corruption")
            : (false, $"pg_amcheck exited with {result.ExitCode}: {PgClientTool.Tail(said)}");
    }
}
