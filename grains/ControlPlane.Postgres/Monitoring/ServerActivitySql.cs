namespace ControlPlane.Postgres.Monitoring;

/// <summary>
/// The server-wide activity families (docs/monitoring.md): checkpoints, WAL position, temp files (cheap, cumulative
/// counters the readings turn into rates), and the estimates the heavy family adds: table and index bloat from the
/// planner's statistics (no extension) and partitions per partitioned table. Catalog views only.
/// </summary>
public static class ServerActivitySql
{
    /// <summary>
    /// PostgreSQL 15 and 16 keep checkpoint counters in pg_stat_bgwriter (times in ms). On a standby the replayed
    /// position stands in for the current one, so WAL "generation" there is the replay rate.
    /// </summary>
    public const string CountersBgwriter = """
        SELECT b.checkpoints_timed, b.checkpoints_req, b.checkpoint_write_time::float8, b.checkpoint_sync_time::float8,
               COALESCE((CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END) - '0/0'::pg_lsn, 0)::bigint,
               COALESCE(sum(d.temp_files), 0)::bigint, COALESCE(sum(d.temp_bytes), 0)::bigint
          FROM pg_stat_bgwriter b CROSS JOIN pg_stat_database d
         GROUP BY 1, 2, 3, 4
        """;

    /// <summary>PostgreSQL 17 moved the checkpoint counters to pg_stat_checkpointer.</summary>
    public const string CountersCheckpointer = """
        SELECT c.num_timed, c.num_requested, c.write_time::float8, c.sync_time::float8,
               COALESCE((CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END) - '0/0'::pg_lsn, 0)::bigint,
               COALESCE(sum(d.temp_files), 0)::bigint, COALESCE(sum(d.temp_bytes), 0)::bigint
          FROM pg_stat_checkpointer c CROSS JOIN pg_stat_database d
         GROUP BY 1, 2, 3, 4
        """;

    public const string ServerVersion = "SELECT current_setting('server_version_num')::int";

    /// <summary>
    /// Estimated reclaimable bytes per table: its pages minus the pages its live rows need at their average width
    /// (pg_stats) with the tuple header (24 bytes, aligned), a line pointer and the table's fillfactor. Tables without
    /// statistics (never analysed) are left out rather than guessed.
    /// </summary>
    public const string TableBloat = """
        WITH widths AS (
            SELECT schemaname, tablename, sum((1 - null_frac) * avg_width) AS width
              FROM pg_stats WHERE NOT inherited GROUP BY schemaname, tablename
        ), sized AS (
            SELECT n.nspname::text AS schema, c.relname::text AS name, c.relpages::bigint AS pages, c.reltuples::float8 AS tuples,
                   4 + 8 * ceil((24 + w.width) / 8.0) AS tuple_bytes,
                   (current_setting('block_size')::int - 24)
                     * COALESCE((SELECT split_part(o, '=', 2)::int FROM unnest(c.reloptions) o WHERE o LIKE 'fillfactor=%'), 100) / 100.0 AS usable
              FROM pg_class c
              JOIN pg_namespace n ON n.oid = c.relnamespace
              JOIN widths w ON w.schemaname = n.nspname AND w.tablename = c.relname
             WHERE c.relkind IN ('r', 'm') AND c.reltuples >= 0
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
        )
        SELECT schema, name, pages * current_setting('block_size')::bigint,
               GREATEST(pages - ceil(tuples * tuple_bytes / usable), 0)::bigint * current_setting('block_size')::bigint
          FROM sized
         ORDER BY 4 DESC
         LIMIT 200
        """;

    /// <summary>
    /// The same estimate for B-tree indexes: index tuples of 8 bytes of header plus the key columns' average width
    /// (aligned), a line pointer, leaf pages 90 % full (the default fillfactor), plus the metapage. Expression columns
    /// count 8 bytes.
    /// </summary>
    public const string IndexBloat = """
        WITH keys AS (
            SELECT i.indexrelid, i.indrelid, sum(COALESCE(s.avg_width, 8)) AS width
              FROM pg_index i
              JOIN pg_attribute a ON a.attrelid = i.indexrelid AND a.attnum > 0
              JOIN pg_class t ON t.oid = i.indrelid
              JOIN pg_namespace n ON n.oid = t.relnamespace
              LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = t.relname AND s.attname = a.attname AND NOT s.inherited
             GROUP BY i.indexrelid, i.indrelid
        ), sized AS (
            SELECT n.nspname::text AS schema, c.relname::text AS name, c.relpages::bigint AS pages, c.reltuples::float8 AS tuples,
                   4 + 8 * ceil((8 + k.width) / 8.0) AS tuple_bytes,
                   (current_setting('block_size')::int - 24 - 16) * 0.9 AS usable
              FROM keys k
              JOIN pg_class c ON c.oid = k.indexrelid
              JOIN pg_am am ON am.oid = c.relam AND am.amname = 'btree'
              JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.reltuples >= 0 AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
        )
        SELECT schema, name, pages * current_setting('block_size')::bigint,
               GREATEST(pages - 1 - ceil(tuples * tuple_bytes / usable), 0)::bigint * current_setting('block_size')::bigint
          FROM sized
         ORDER BY 4 DESC
         LIMIT 200
        """;

    /// <summary>
    /// Partitioned tables with their partition count, the live rows of their default partition (if any) and, for a
    /// time-range scheme (RANGE on one column of type date, timestamp or timestamptz), the newest partition's upper bound:
    /// the TO of its bound expression. A MAXVALUE upper bound (no end) or 'infinity' reads as null.
    /// </summary>
    public const string Partitions = """
        SELECT n.nspname::text, c.relname::text,
               (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid)::int,
               pt.partdefid <> 0,
               COALESCE((SELECT s.n_live_tup FROM pg_stat_all_tables s WHERE s.relid = pt.partdefid), 0)::bigint,
               CASE WHEN pt.partstrat = 'r' AND pt.partnatts = 1 AND pt.partattrs[0] <> 0
                         AND (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = pt.partattrs[0])
                             IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)
                    THEN (SELECT CASE WHEN bool_or(b.upper IS NULL) THEN NULL ELSE NULLIF(max(b.upper::timestamptz), 'infinity') END
                            FROM (SELECT substring(pg_get_expr(p.relpartbound, p.oid) FROM 'TO \(''([^'']+)''\)') AS upper
                                    FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
                                   WHERE i.inhparent = c.oid AND p.oid <> pt.partdefid) b)
               END
          FROM pg_partitioned_table pt
          JOIN pg_class c ON c.oid = pt.partrelid
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE NOT c.relispartition
         ORDER BY 3 DESC, 1, 2
         LIMIT 50
        """;
}
