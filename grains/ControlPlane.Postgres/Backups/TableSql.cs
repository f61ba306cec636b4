using Npgsql;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// The SQL the backup checks share. A table is named as PostgreSQL quotes it (<c>format('%I.%I')</c>, e.g.
/// <c>public.orders</c> or <c>"Sales"."Q1"</c>), so the name that is recorded is the name that resolves again:
/// a count never string-builds SQL from a name; the server parses it (<c>to_regclass</c>) and re-quotes it.
/// </summary>
internal static class TableSql
{
    public const int CountTimeoutSeconds = 600;

    public const string ConnectableDatabases =
        "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname";

    /// <summary>
    /// The largest permanent user tables, biggest first. Unlogged tables are left out: a restore from WAL
    /// brings them back empty, so their counts could never match.
    /// </summary>
    public const string LargestTables = """
        SELECT format('%I.%I', n.nspname, c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND c.relpersistence = 'p'
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
        ORDER BY pg_total_relation_size(c.oid) DESC, 1
        LIMIT $1
        """;

    public const string SchemaTables = """
        SELECT format('%I.%I', n.nspname, c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p') AND n.nspname = $1
        ORDER BY 1
        """;

    public const string SchemaExists = "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)";

    /// <summary>Renders the count of a table; no row when the name resolves to nothing.</summary>
    private const string CountStatement =
        "SELECT format('SELECT count(*) FROM %s', r) FROM (SELECT to_regclass($1) AS r) t WHERE r IS NOT NULL";

    /// <summary>The first column of every row <paramref name="sql"/> returns.</summary>
    public static async Task<List<string>> ListAsync(NpgsqlConnection connection, string sql, CancellationToken ct, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = CountTimeoutSeconds };
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        var names = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await reader.ReadAsync(ct).ConfigureAwait(false)) names.Add(reader.GetString(0));
        return names;
    }

    /// <summary>Rows of <paramref name="table"/> in the connection's current snapshot, or -1 when no such table exists.</summary>
    public static async Task<long> CountAsync(NpgsqlConnection connection, string table, CancellationToken ct)
    {
        string? statement;
        await using (var render = new NpgsqlCommand(CountStatement, connection) { CommandTimeout = CountTimeoutSeconds })
        {
            render.Parameters.Add(new NpgsqlParameter { Value = table });
            statement = (string?)await render.ExecuteScalarAsync(ct).ConfigureAwait(false);
        }
        if (statement is null) return -1;
        await using var count = new NpgsqlCommand(statement, connection) { CommandTimeout = CountTimeoutSeconds };
        return (long)(await count.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
    }

    /// <summary>Counts every table in one snapshot (the caller's transaction, if any).</summary>
    public static async Task<List<TableCount>> CountAllAsync(NpgsqlConnection connection, string database, IEnumerable<string> tables, CancellationToken ct)
    {
        var counts = new List<TableCount>();
        foreach (var table in tables) counts.Add(new TableCount(database, table, await CountAsync(connection, table, ct).ConfigureAwait(false)));
        return counts;
    }

    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = CountTimeoutSeconds };
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }
}
