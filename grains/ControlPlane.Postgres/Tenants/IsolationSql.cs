namespace ControlPlane.Postgres.Tenants;

/// <summary>
/// The isolation audit's catalog reads, in one place. Tenant objects are those of schemas named <c>tenant_*</c> (one per
/// tenant with schema placement, and <c>tenant_shared</c>); views and SECURITY DEFINER functions are read from every
/// schema but the system ones, because they can reach tenant tables from anywhere. No statement takes input.
/// </summary>
internal static class IsolationSql
{
    private const string TenantSchema = @"LIKE 'tenant\_%'";
    private const string Grantee = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END";

    public const string Begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

    public const string AdminRole = "SELECT current_user::text";

    public const string Schemas = $"SELECT n.nspname::text, pg_get_userbyid(n.nspowner)::text FROM pg_namespace n WHERE n.nspname {TenantSchema} ORDER BY 1";

    public const string Tables = $"""
        SELECT n.nspname::text, c.relname::text, pg_get_userbyid(c.relowner)::text, c.relrowsecurity, c.relforcerowsecurity,
               a.attnum IS NOT NULL, coalesce(a.attnotnull, false),
               coalesce(EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indkey[0] = a.attnum), false)
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
        WHERE n.nspname {TenantSchema} AND c.relkind IN ('r', 'p')
        ORDER BY 1, 2
        """;

    public const string Policies = $"""
        SELECT n.nspname::text, c.relname::text, p.polname::text, p.polpermissive,
               CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
               ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r)::text END FROM unnest(p.polroles) r ORDER BY 1),
               pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)
        FROM pg_policy p
        JOIN pg_class c ON c.oid = p.polrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname {TenantSchema}
        ORDER BY 1, 2, 3
        """;

    public const string Roles = """
        SELECT r.rolname::text, r.rolcanlogin, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb, r.rolreplication,
               ARRAY(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid ORDER BY 1)
        FROM pg_roles r
        WHERE r.rolname !~ '^pg_'
        ORDER BY 1
        """;

    public const string Grants = $"""
        SELECT 'schema', n.nspname::text, '', pg_get_userbyid(n.nspowner)::text, {Grantee}::text, a.privilege_type
        FROM pg_namespace n, aclexplode(n.nspacl) a
        WHERE n.nspname {TenantSchema} AND a.grantee <> n.nspowner
        UNION ALL
        SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'view' ELSE 'table' END,
               n.nspname::text, c.relname::text, pg_get_userbyid(c.relowner)::text, {Grantee}::text, a.privilege_type
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
        WHERE n.nspname {TenantSchema} AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND a.grantee <> c.relowner
        ORDER BY 2, 3, 5, 6
        """;

    // proacl NULL is the default: EXECUTE to PUBLIC. Only SECURITY DEFINER functions (anywhere) and the functions of
    // tenant schemas matter to isolation.
    public const string Functions = $"""
        SELECT n.nspname::text, p.proname::text, pg_get_function_identity_arguments(p.oid), pg_get_userbyid(p.proowner)::text, p.prosecdef,
               EXISTS (SELECT 1 FROM unnest(coalesce(p.proconfig, ARRAY[]::text[])) s WHERE s LIKE 'search_path=%'),
               p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
        FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%' AND p.prokind IN ('f', 'p')
          AND (p.prosecdef OR n.nspname {TenantSchema})
        ORDER BY 1, 2, 3
        """;

    // A view's rule depends on every table it reads (pg_depend from pg_rewrite to pg_class).
    public const string Views = $"""
        SELECT DISTINCT vn.nspname::text, v.relname::text, pg_get_userbyid(v.relowner)::text, v.relkind = 'm',
               coalesce(EXISTS (SELECT 1 FROM unnest(v.reloptions) o
                                WHERE lower(o) IN ('security_invoker=true', 'security_invoker=on', 'security_invoker=1', 'security_invoker=yes')), false),
               tn.nspname::text || '.' || t.relname::text
        FROM pg_rewrite r
        JOIN pg_class v ON v.oid = r.ev_class
        JOIN pg_namespace vn ON vn.oid = v.relnamespace
        JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
        JOIN pg_class t ON t.oid = d.refobjid AND t.oid <> v.oid AND t.relkind IN ('r', 'p')
        JOIN pg_namespace tn ON tn.oid = t.relnamespace
        WHERE v.relkind IN ('v', 'm') AND tn.nspname {TenantSchema}
          AND vn.nspname NOT IN ('pg_catalog', 'information_schema') AND vn.nspname NOT LIKE 'pg\_%'
        ORDER BY 1, 2, 6
        """;

    // A serial column's default depends on its sequence; an owned or identity sequence depends on its table.
    public const string Sequences = $"""
        SELECT sn.nspname::text, s.relname::text, tn.nspname::text || '.' || t.relname::text
        FROM pg_class s
        JOIN pg_namespace sn ON sn.oid = s.relnamespace
        JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = s.oid AND d.classid = 'pg_attrdef'::regclass
        JOIN pg_attrdef ad ON ad.oid = d.objid
        JOIN pg_class t ON t.oid = ad.adrelid
        JOIN pg_namespace tn ON tn.oid = t.relnamespace
        WHERE s.relkind = 'S' AND (tn.nspname {TenantSchema} OR sn.nspname {TenantSchema})
        UNION
        SELECT sn.nspname::text, s.relname::text, tn.nspname::text || '.' || t.relname::text
        FROM pg_class s
        JOIN pg_namespace sn ON sn.oid = s.relnamespace
        JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
        JOIN pg_class t ON t.oid = d.refobjid
        JOIN pg_namespace tn ON tn.oid = t.relnamespace
        WHERE s.relkind = 'S' AND (tn.nspname {TenantSchema} OR sn.nspname {TenantSchema})
        ORDER BY 1, 2, 3
        """;

    public const string LargeObjects = "SELECT count(*), current_setting('lo_compat_privileges')::bool FROM pg_largeobject_metadata";

    public const string LargeObjectGrants = $"""
        SELECT 'large object', '', m.oid::text, pg_get_userbyid(m.lomowner)::text, {Grantee}::text, a.privilege_type
        FROM pg_largeobject_metadata m, aclexplode(m.lomacl) a
        WHERE a.grantee <> m.lomowner
        ORDER BY 3, 5, 6
        """;
}
