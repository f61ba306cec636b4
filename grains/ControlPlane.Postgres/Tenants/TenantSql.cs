namespace ControlPlane.Postgres.Tenants;

/// <summary>
/// Every statement of the tenant lifecycle, in one place. DDL cannot take parameters, so each DDL statement is rendered
/// server-side by <c>format()</c> from parameters (%I quotes identifiers, %L literals): nothing is string-built here.
/// </summary>
internal static class TenantSql
{
    /// <summary>Schema holding the tables tenants share (rows keyed by a text column <c>tenant_id</c>).</summary>
    public const string SharedSchema = "tenant_shared";

    public const string RoleExists = "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)";
    public const string SchemaExists = "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)";
    public const string RoleCanLogin = "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1";

    // The least a tenant's application needs: it logs in, and nothing else; no inheritance, no RLS bypass.
    public const string CreateRole =
        "SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS CONNECTION LIMIT %s PASSWORD %L', $1::text, $2::int, $3::text)";
    public const string AlterRole =
        "SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION NOBYPASSRLS CONNECTION LIMIT %s PASSWORD %L', $1::text, $2::int, $3::text)";
    public const string NoLogin = "SELECT format('ALTER ROLE %I NOLOGIN', $1::text)";
    public const string Login = "SELECT format('ALTER ROLE %I LOGIN', $1::text)";
    public const string DropRole = "SELECT format('DROP ROLE IF EXISTS %I', $1::text)";
    public const string DropOwned = "SELECT format('DROP OWNED BY %I', $1::text)";

    // The schema belongs to the control plane's admin, not to the tenant: the tenant creates tables in it, and owns those,
    // but cannot grant its schema away or drop it.
    public const string CreateSchema = "SELECT format('CREATE SCHEMA IF NOT EXISTS %I', $1::text)";
    public const string RevokeSchemaFromPublic = "SELECT format('REVOKE ALL ON SCHEMA %I FROM PUBLIC', $1::text)";
    public const string GrantSchema = "SELECT format('GRANT USAGE, CREATE ON SCHEMA %I TO %I', $1::text, $2::text)";
    public const string GrantSharedSchema = "SELECT format('GRANT USAGE ON SCHEMA %I TO %I', $1::text, $2::text)";
    public const string DropSchema = "SELECT format('DROP SCHEMA IF EXISTS %I CASCADE', $1::text)";

    /// <summary>Tables of a schema with a <c>tenant_id</c> column ($1 schema).</summary>
    public const string SharedTables = """
        SELECT c.relname
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
          AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
        ORDER BY c.relname
        """;

    /// <summary>Every table of a schema ($1 schema).</summary>
    public const string SchemaTables = """
        SELECT c.relname
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
        ORDER BY c.relname
        """;

    public const string EnableRls = "SELECT format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', $1::text, $2::text)";
    public const string ForceRls = "SELECT format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', $1::text, $2::text)";
    public const string GrantRows = "SELECT format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.%I TO %I', $1::text, $2::text, $3::text)";

    // The policy template: bound to the tenant's role (so no session setting can widen it) and to its key, for reads
    // (USING) and writes (WITH CHECK) alike. Named after the role, one per table.
    public const string DropPolicy = "SELECT format('DROP POLICY IF EXISTS %I ON %I.%I', $1::text, $2::text, $3::text)";
    public const string CreatePolicy =
        "SELECT format('CREATE POLICY %I ON %I.%I AS PERMISSIVE FOR ALL TO %I USING (tenant_id = %L) WITH CHECK (tenant_id = %L)', $1::text, $2::text, $3::text, $1::text, $4::text, $4::text)";

    public const string CountAll = "SELECT format('SELECT count(*) FROM %I.%I', $1::text, $2::text)";
    public const string CountTenantRows = "SELECT format('SELECT count(*) FROM %I.%I WHERE tenant_id = %L', $1::text, $2::text, $3::text)";
    public const string DeleteTenantRows = "SELECT format('DELETE FROM %I.%I WHERE tenant_id = %L', $1::text, $2::text, $3::text)";

    public const string TerminateSessions =
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()";

    // The probe's attempts, run as the probing tenant's role, each in a transaction that is rolled back.
    public const string ProbeSelect = "SELECT format('SELECT 1 FROM %I.%I LIMIT 1', $1::text, $2::text)";
    public const string ProbeCreate = "SELECT format('CREATE TABLE %I.controlplane_probe (x int)', $1::text)";
    public const string ProbeSelectRows = "SELECT format('SELECT 1 FROM %I.%I WHERE tenant_id = %L LIMIT 1', $1::text, $2::text, $3::text)";
    public const string ProbeInsertRow = "SELECT format('INSERT INTO %I.%I (tenant_id) VALUES (%L)', $1::text, $2::text, $3::text)";
    public const string ProbeUpdateRows = "SELECT format('UPDATE %I.%I SET tenant_id = tenant_id WHERE tenant_id = %L', $1::text, $2::text, $3::text)";
    // Views the probing role may read that read the target's schema (or, $2 true, the shared tables and expose tenant_id),
    // and zero-argument SECURITY DEFINER set-returning functions it may call that return a tenant_id column: the paths
    // around a table's own privileges and policies.
    public const string ProbeViews = """
        SELECT DISTINCT vn.nspname::text, v.relname::text
        FROM pg_class v
        JOIN pg_namespace vn ON vn.oid = v.relnamespace
        JOIN pg_rewrite r ON r.ev_class = v.oid
        JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
        JOIN pg_class t ON t.oid = d.refobjid AND t.oid <> v.oid
        JOIN pg_namespace tn ON tn.oid = t.relnamespace
        WHERE v.relkind IN ('v', 'm') AND tn.nspname = $1 AND vn.nspname NOT IN ('pg_catalog', 'information_schema')
          AND has_schema_privilege(vn.oid, 'USAGE') AND has_table_privilege(v.oid, 'SELECT')
          AND (NOT $2 OR EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = v.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
        ORDER BY 1, 2
        """;
    public const string ProbeFunctions = """
        SELECT n.nspname::text, p.proname::text
        FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.pronargs = 0 AND p.proretset AND p.prosecdef AND 'tenant_id' = ANY (p.proargnames)
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND has_schema_privilege(n.oid, 'USAGE') AND has_function_privilege(p.oid, 'EXECUTE')
        ORDER BY 1, 2
        """;
    public const string ProbeFunctionRows = "SELECT format('SELECT 1 FROM %I.%I() WHERE tenant_id = %L LIMIT 1', $1::text, $2::text, $3::text)";
    public const string ProbeDeleteRows = "SELECT format('DELETE FROM %I.%I WHERE tenant_id = %L', $1::text, $2::text, $3::text)";
}
