using Npgsql;

namespace ControlPlane.IntegrationTests.Changes;

/// <summary>The test's own reading of targets: their history rows and a canonical description of their schema.</summary>
internal static class ChangeCatalog
{
    // Relations, columns (not dropped ones), indexes with their definition and validity, constraints: what a change may
    // add or remove, in a stable order, so two readings compare as text.
    private const string Describe = """
        SELECT string_agg(line, E'\n' ORDER BY line) FROM (
          SELECT 'rel ' || c.relname || ' ' || c.relkind::text AS line
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
          UNION ALL
          SELECT 'col ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p')
          UNION ALL
          SELECT 'idx ' || pg_get_indexdef(i.indexrelid) || ' ' || i.indisvalid
            FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
          UNION ALL
          SELECT 'con ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
            FROM pg_constraint co JOIN pg_namespace n ON n.oid = co.connamespace WHERE n.nspname = $1
        ) lines
        """;

    public static async Task<string> DescribeAsync(NpgsqlConnection connection, string schema)
    {
        await using var cmd = new NpgsqlCommand(Describe, connection);
        cmd.Parameters.Add(new NpgsqlParameter { Value = schema });
        return await cmd.ExecuteScalarAsync() as string ?? "";
    }

    public static async Task<IReadOnlyList<(long Version, string ChangeId, DateTime AppliedAt)>> HistoryAsync(NpgsqlConnection connection, string schema)
    {
        var rows = new List<(long, string, DateTime)>();
        await using var render = new NpgsqlCommand(
            "SELECT CASE WHEN to_regclass(format('controlplane_changes.%I', $1::text)) IS NULL THEN NULL ELSE format('SELECT version, change_id, applied_at FROM controlplane_changes.%I ORDER BY version', $1::text) END",
            connection);
        render.Parameters.Add(new NpgsqlParameter { Value = schema });
        if (await render.ExecuteScalarAsync() is not string sql) return rows;
        await using var cmd = new NpgsqlCommand(sql, connection);
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add((reader.GetInt64(0), reader.GetString(1), reader.GetDateTime(2)));
        return rows;
    }

    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        await cmd.ExecuteNonQueryAsync();
    }

    public static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, params object[] args)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        foreach (var a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        return (T)(await cmd.ExecuteScalarAsync())!;
    }
}
