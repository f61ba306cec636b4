namespace ControlPlane.Postgres.Monitoring;

/// <summary>
/// The monitoring queries, catalog views only (no host access), so they work on any PostgreSQL the control plane
/// reaches. Every one excludes the control plane's own session where it would count itself.
/// </summary>
public static class PerfSql
{
    /// <summary>Sessions that wait on a lock and the sessions they wait on, with their locks (ungranted ones marked).</summary>
    public const string LockSessions = """
        WITH waits AS (
            SELECT pid, pg_blocking_pids(pid) AS blockers FROM pg_stat_activity WHERE pid <> pg_backend_pid()
        ), involved AS (
            SELECT pid FROM waits WHERE cardinality(blockers) > 0
            UNION SELECT unnest(blockers) FROM waits
        )
        SELECT a.pid, COALESCE(a.usename::text, ''), COALESCE(a.datname::text, ''), COALESCE(a.application_name, ''), COALESCE(a.state, ''),
               a.wait_event_type,
               EXTRACT(EPOCH FROM clock_timestamp() - a.xact_start)::float8,
               EXTRACT(EPOCH FROM clock_timestamp() - a.state_change)::float8,
               left(COALESCE(a.query, ''), 300),
               w.blockers,
               COALESCE((SELECT array_agg(CASE WHEN l.granted THEN '' ELSE 'waits ' END || l.mode || ' ' || l.locktype
                                          || COALESCE(' ' || l.relation::regclass::text, '') ORDER BY l.granted, l.mode)
                           FROM pg_locks l WHERE l.pid = a.pid AND l.locktype <> 'virtualxid'), '{}')
          FROM involved i JOIN pg_stat_activity a ON a.pid = i.pid JOIN waits w ON w.pid = a.pid
         ORDER BY a.pid
        """;

    /// <summary>Client transactions, oldest first; a few are enough to name the worst.</summary>
    public const string OpenTransactions = """
        SELECT pid, COALESCE(usename::text, ''), COALESCE(datname::text, ''), COALESCE(application_name, ''), COALESCE(state, ''),
               EXTRACT(EPOCH FROM clock_timestamp() - xact_start)::float8,
               EXTRACT(EPOCH FROM clock_timestamp() - state_change)::float8,
               left(COALESCE(query, ''), 300)
          FROM pg_stat_activity
         WHERE backend_type = 'client backend' AND xact_start IS NOT NULL AND pid <> pg_backend_pid()
         ORDER BY xact_start
         LIMIT 10
        """;

    public const string Wraparound = "SELECT datname::text, age(datfrozenxid)::bigint FROM pg_database ORDER BY 2 DESC LIMIT 1";

    /// <summary>On a standby the replayed position stands in for the current one (pg_current_wal_lsn fails there).</summary>
    public const string Slots = """
        SELECT slot_name::text, slot_type, active, wal_status,
               ((CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END) - restart_lsn)::bigint
          FROM pg_replication_slots ORDER BY slot_name
        """;

    public const string CacheHit = """
        SELECT COALESCE(sum(blks_hit)::float8 / NULLIF(sum(blks_hit) + sum(blks_read), 0), 1) FROM pg_stat_database
        """;

    public const string StatementsAvailable = "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')";

    /// <summary>Summed per query id (one statement run by several roles is one statement to tune).</summary>
    public const string TopStatements = """
        SELECT queryid, min(left(query, 1000)), sum(calls)::bigint, sum(total_exec_time)::float8,
               (sum(total_exec_time) / NULLIF(sum(calls), 0))::float8, sum(rows)::bigint,
               sum(shared_blks_hit)::bigint, sum(shared_blks_read)::bigint, sum(temp_blks_written)::bigint
          FROM pg_stat_statements
         WHERE queryid IS NOT NULL
         GROUP BY queryid
         ORDER BY sum(total_exec_time) DESC
         LIMIT @limit
        """;

    public const string TableScans = """
        SELECT schemaname::text, relname::text, seq_scan, seq_tup_read, COALESCE(idx_scan, 0), n_live_tup,
               pg_total_relation_size(relid)
          FROM pg_stat_user_tables
         ORDER BY seq_tup_read DESC
         LIMIT 50
        """;

    public const string Indexes = """
        SELECT s.schemaname::text, s.relname::text, s.indexrelname::text, s.idx_scan, pg_relation_size(s.indexrelid),
               i.indisunique, i.indisprimary, i.indisvalid, pg_get_indexdef(s.indexrelid),
               i.indrelid::text || ':' || i.indkey::text || ':' || i.indclass::text || ':' || COALESCE(pg_get_expr(i.indexprs, i.indrelid), '')
                   || ':' || COALESCE(pg_get_expr(i.indpred, i.indrelid), '')
          FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
         ORDER BY s.schemaname, s.relname, s.indexrelname
        """;

    /// <summary>Created on the local fleet's primaries; the library itself is loaded by shared_preload_libraries.</summary>
    public const string CreateStatementsExtension = "CREATE EXTENSION IF NOT EXISTS pg_stat_statements";
}
