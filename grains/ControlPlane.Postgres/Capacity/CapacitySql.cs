namespace ControlPlane.Postgres.Capacity;

/// <summary>
/// The capacity queries: catalog functions and statistics views only (no host access), so they work on any
/// PostgreSQL the control plane reaches. Sizes skip databases the login may not connect to instead of failing.
/// </summary>
public static class CapacitySql
{
    /// <summary>The server's clock (the sample's time: a late grain tick must not skew a growth rate), role, totals and counters.</summary>
    public const string Totals = """
        SELECT clock_timestamp(), pg_is_in_recovery(),
               (SELECT COALESCE(sum(pg_database_size(oid)), 0)::bigint FROM pg_database
                 WHERE datallowconn AND has_database_privilege(oid, 'CONNECT')),
               (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend'),
               current_setting('max_connections')::int,
               (SELECT COALESCE(sum(xact_commit + xact_rollback), 0)::bigint FROM pg_stat_database),
               ((CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END) - '0/0'::pg_lsn)::bigint,
               (SELECT COALESCE(max(age(datfrozenxid)), 0)::bigint FROM pg_database)
        """;

    public const string Databases = """
        SELECT datname::text, pg_database_size(oid)::bigint FROM pg_database
         WHERE datallowconn AND has_database_privilege(oid, 'CONNECT')
         ORDER BY 2 DESC, 1
        """;

    /// <summary>The biggest plain tables of the monitored database (partitions excluded: they are partitioned already).</summary>
    public const string Tables = """
        SELECT n.nspname::text, c.relname::text, pg_total_relation_size(c.oid)::bigint, GREATEST(c.reltuples, 0)::bigint
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'r' AND NOT c.relispartition
           AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
         ORDER BY 3 DESC, 1, 2
         LIMIT @limit
        """;

    /// <summary>Size of every schema-per-tenant schema (<c>tenant_*</c>), tables, indexes and TOAST included.</summary>
    public const string TenantSchemas = """
        SELECT n.nspname::text, COALESCE(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relkind IN ('r', 'm')), 0)::bigint
          FROM pg_namespace n LEFT JOIN pg_class c ON c.relnamespace = n.oid
         WHERE n.nspname LIKE 'tenant\_%'
         GROUP BY n.nspname
         ORDER BY 2 DESC, 1
        """;

    /// <summary>
    /// Tables of <c>tenant_shared</c> with a <c>tenant_id</c> column: size, estimated rows and the column's statistics
    /// (pg_stats, from the last ANALYZE). No row is read: a per-tenant count would scan every shared table each round.
    /// </summary>
    public const string SharedTables = """
        SELECT c.relname::text, pg_total_relation_size(c.oid)::bigint, GREATEST(c.reltuples, 0)::bigint,
               s.null_frac, s.n_distinct, s.most_common_vals::text::text[], s.most_common_freqs
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = 'tenant_id' AND NOT s.inherited
         WHERE n.nspname = 'tenant_shared' AND c.relkind = 'r'
           AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
         ORDER BY 2 DESC, 1
         LIMIT 200
        """;
}
