namespace ControlPlane.Postgres.Consistency;

/// <summary>The SQL of the replica comparison, in one place. Identifiers come quoted from the server (format %I).</summary>
internal static class ConsistencySql
{
    /// <summary>
    /// Permanent user tables of the database, with the leading column of the primary key (quoted) and whether it is an
    /// integer (then the table is compared in key ranges). Unlogged tables are left out: a standby has none of their rows.
    /// </summary>
    public const string Tables = """
        SELECT format('%I.%I', n.nspname, c.relname), n.nspname, c.relname,
               k.attname, coalesce(k.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype), false),
               k.attname IS NOT NULL, greatest(c.reltuples, 0)::bigint
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN LATERAL (
            SELECT format('%I', a.attname) AS attname, a.atttypid
            FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = c.oid AND i.indisprimary) k ON true
        WHERE c.relkind = 'r' AND c.relpersistence = 'p'
          AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
        ORDER BY 1
        """;

    /// <summary>Every session of a check renders rows the same way, whatever the servers' defaults.</summary>
    public const string SessionSettings = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; SET extra_float_digits = 3; SET bytea_output = 'hex'";

    public const string InsertLsn = "SELECT pg_current_wal_insert_lsn()::text";
    public const string ReplayLsn = "SELECT pg_last_wal_replay_lsn()::text";
    public const string InRecovery = "SELECT pg_is_in_recovery()";
    public const string DeadlockTimeoutMs = "SELECT setting::bigint FROM pg_settings WHERE name = 'deadlock_timeout'";

    /// <summary>Rows and the sum of a 64-bit hash of each row's text form; the sum (numeric) is reduced modulo 2^64 by the caller.</summary>
    public static string Digest(string table, string? key, KeyRange range)
    {
        var select = $"SELECT count(*), coalesce(sum(hashtextextended(ROW(cp_row.*)::text, 0)), 0)::text FROM {table} AS cp_row";
        if (key is null) return select;
        return (range.From, range.To) switch
        {
            (null, null) => select,
            (not null, null) => $"{select} WHERE {key} >= $1",
            (null, not null) => $"{select} WHERE {key} < $2",
            _ => $"{select} WHERE {key} >= $1 AND {key} < $2",
        };
    }

    public static string KeyBounds(string table, string key) => $"SELECT min({key})::bigint, max({key})::bigint FROM {table}";

    public static string LockShare(string table, long timeoutMs) => $"SET LOCAL lock_timeout = '{timeoutMs}ms'; LOCK TABLE {table} IN SHARE MODE";
}
