using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Upgrades;

/// <summary>The SQL a rehearsal runs on its scratch instances (never on the live tier).</summary>
internal static class UpgradeSql
{
    public const string EveryTableReadable = "every table readable";
    public const string ProbeTable = "controlplane_upgrade_probe";
    public const string Publication = "controlplane_upgrade";

    private const string Databases = "SELECT datname FROM pg_database WHERE NOT datistemplate AND datallowconn ORDER BY datname";

    private const string UserTables = """
        SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
        ORDER BY 1, 2
        """;

    private const string CountTable = "SELECT format('SELECT count(*) FROM %I.%I', $1::text, $2::text)";
    private const string ReadTable = "SELECT format('SELECT * FROM %I.%I LIMIT 1', $1::text, $2::text)";

    public static async Task<string> ServerVersionAsync(ReplicaEndpoint endpoint, CancellationToken ct)
    {
        await using var connection = await AdminSql.OpenAsync(endpoint, ct).ConfigureAwait(false);
        return (string)(await AdminSql.ScalarAsync(connection, "SHOW server_version", ct).ConfigureAwait(false))!;
    }

    public static async Task<IReadOnlyList<string>> DatabasesAsync(ReplicaEndpoint endpoint, CancellationToken ct)
    {
        await using var connection = await AdminSql.OpenAsync(endpoint, ct).ConfigureAwait(false);
        return await ListAsync(connection, Databases, r => r.GetString(0), ct).ConfigureAwait(false);
    }

    public static Task<NpgsqlConnection> OpenAsync(ReplicaEndpoint endpoint, string database, CancellationToken ct) =>
        AdminSql.OpenAsync(AdminSql.ConnectionString(endpoint, database), ct);

    public static async Task EnsureDatabaseAsync(ReplicaEndpoint endpoint, string database, CancellationToken ct)
    {
        await using var connection = await AdminSql.OpenAsync(AdminSql.ConnectionString(endpoint, "postgres"), ct).ConfigureAwait(false);
        if ((bool)(await AdminSql.ScalarAsync(connection, AdminSql.DatabaseExists, ct, database).ConfigureAwait(false))!) return;
        await AdminSql.ExecuteFormattedAsync(connection, AdminSql.CreateDatabase, ct, database).ConfigureAwait(false);
    }

    public static async Task<IReadOnlyList<(string Name, string Version)>> ExtensionsAsync(ReplicaEndpoint endpoint, string database, CancellationToken ct)
    {
        await using var connection = await OpenAsync(endpoint, database, ct).ConfigureAwait(false);
        return await ListAsync(connection, "SELECT extname, extversion FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1",
            r => (r.GetString(0), r.GetString(1)), ct).ConfigureAwait(false);
    }

    public static async Task<IReadOnlySet<string>> AvailableExtensionsAsync(ReplicaEndpoint endpoint, CancellationToken ct)
    {
        await using var connection = await AdminSql.OpenAsync(AdminSql.ConnectionString(endpoint, "postgres"), ct).ConfigureAwait(false);
        return (await ListAsync(connection, "SELECT name FROM pg_available_extensions", r => r.GetString(0), ct).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Exact row count of every user table of <paramref name="database"/>, keyed <c>schema.table</c>.</summary>
    public static async Task<IReadOnlyDictionary<string, long>> RowCountsAsync(ReplicaEndpoint endpoint, string database, CancellationToken ct)
    {
        await using var connection = await OpenAsync(endpoint, database, ct).ConfigureAwait(false);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (schema, table) in await TablesAsync(connection, ct).ConfigureAwait(false))
        {
            var sql = (string)(await AdminSql.ScalarAsync(connection, CountTable, ct, schema, table).ConfigureAwait(false))!;
            counts[$"{schema}.{table}"] = (long)(await AdminSql.ScalarAsync(connection, sql, ct).ConfigureAwait(false))!;
        }
        return counts;
    }

    /// <summary>Runs one smoke query (or reads a row of every table for <see cref="EveryTableReadable"/>); a failure is its error message.</summary>
    public static async Task<SmokeOutcome> SmokeAsync(ReplicaEndpoint endpoint, string database, string query, CancellationToken ct)
    {
        try
        {
            await using var connection = await OpenAsync(endpoint, database, ct).ConfigureAwait(false);
            if (query != EveryTableReadable)
            {
                await using var cmd = new NpgsqlCommand(query, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
                await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
                var rows = 0;
                while (await reader.ReadAsync(ct).ConfigureAwait(false)) rows++;
                return new SmokeOutcome(database, query, true, $"{rows} row(s)");
            }
            var tables = await TablesAsync(connection, ct).ConfigureAwait(false);
            foreach (var (schema, table) in tables)
            {
                var sql = (string)(await AdminSql.ScalarAsync(connection, ReadTable, ct, schema, table).ConfigureAwait(false))!;
                await AdminSql.ScalarAsync(connection, sql, ct).ConfigureAwait(false);
            }
            return new SmokeOutcome(database, query, true, $"{tables.Count} table(s) read");
        }
        catch (PostgresException e)
        {
            return new SmokeOutcome(database, query, false, $"{e.SqlState}: {e.MessageText}");
        }
    }

    public static Task<IReadOnlyList<(string Schema, string Table)>> TablesAsync(NpgsqlConnection connection, CancellationToken ct) =>
        ListAsync(connection, UserTables, r => (r.GetString(0), r.GetString(1)), ct);

    public static async Task<IReadOnlyList<T>> ListAsync<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> read, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        var list = new List<T>();
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) list.Add(read(reader));
        return list;
    }

    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = AdminSql.CommandTimeoutSeconds };
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
