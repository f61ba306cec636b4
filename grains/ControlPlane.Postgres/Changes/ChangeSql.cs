namespace ControlPlane.Postgres.Changes;

/// <summary>
/// SQL of per-target migration history. Each target schema has its own history table, named after the schema, in
/// <see cref="HistorySchema"/>: outside the target, so a tenant's role cannot edit it and a catalog comparison of the
/// target sees only the tenant's own objects. Table names are rendered server-side with format(%I), never built here.
/// </summary>
internal static class ChangeSql
{
    public const string HistorySchema = "controlplane_changes";

    /// <summary>Advisory lock class of per-target migration locks (the second key is hashtext(schema)).</summary>
    public const int LockClass = 0x43504348; // "CPCH"

    public const string CreateHistorySchema = "CREATE SCHEMA IF NOT EXISTS controlplane_changes";
    public const string RevokeHistorySchema = "REVOKE ALL ON SCHEMA controlplane_changes FROM PUBLIC";

    /// <summary>Every per-target statement, rendered once per connection: $1 is the target schema.</summary>
    public const string Render = """
        SELECT format('CREATE SCHEMA IF NOT EXISTS %I', $1::text),
               format('CREATE TABLE IF NOT EXISTS controlplane_changes.%I (
                         version bigint PRIMARY KEY,
                         checksum text NOT NULL,
                         applied_at timestamptz NOT NULL DEFAULT now(),
                         applied_by text NOT NULL,
                         duration_ms bigint NOT NULL,
                         change_id text NOT NULL)', $1::text),
               format('SELECT version, checksum, applied_at, applied_by, duration_ms, change_id FROM controlplane_changes.%I ORDER BY version', $1::text),
               format('SELECT checksum FROM controlplane_changes.%I WHERE version = $1', $1::text),
               format('INSERT INTO controlplane_changes.%I (version, checksum, applied_by, duration_ms, change_id) VALUES ($1, $2, $3, $4, $5)', $1::text),
               format('DELETE FROM controlplane_changes.%I WHERE version = $1', $1::text),
               to_regclass(format('controlplane_changes.%I', $1::text)) IS NOT NULL
        """;

    /// <summary>Transaction-scoped settings: $1 lock_timeout, $2 statement_timeout, $3 the target schema.</summary>
    public const string SetLocal = """
        SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true),
               set_config('search_path', quote_ident($3), true)
        """;

    /// <summary>The same, for the session (a file that runs outside a transaction).</summary>
    public const string SetSession = """
        SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false),
               set_config('search_path', quote_ident($3), false)
        """;

    public const string XactLock = "SELECT pg_advisory_xact_lock($1, hashtext($2))";
    public const string SessionLock = "SELECT pg_advisory_lock($1, hashtext($2))";
    public const string SessionUnlock = "SELECT pg_advisory_unlock($1, hashtext($2))";
}
