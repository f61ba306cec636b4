namespace ControlPlane.Postgres.Parity;

/// <summary>
/// Every catalog query of a schema snapshot. $1 is the schema, or '' for every non-system schema of the database.
/// Objects an extension owns (pg_depend 'e') belong to the extension and are left out; so are identity sequences
/// (pg_depend 'i'), which are their column's. Definitions come from pg_get_*def under the snapshot's search_path.
/// </summary>
internal static class ParitySql
{
    private const string InScope = "(n.nspname = $1 OR ($1 = '' AND n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'))";

    private const string NotFromExtension =
        "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')";

    private const string ProcNotFromExtension =
        "NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')";

    // Relative to the snapshot's search_path: own-schema names come out bare in a schema snapshot.
    private const string ProcKey = "pn.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'";

    public const string SchemaExists = "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)";

    public const string SetSearchPath = "SELECT set_config('search_path', CASE WHEN $1 = '' THEN '' ELSE quote_ident($1) END, true)";

    public const string Schemas = $"SELECT n.nspname FROM pg_namespace n WHERE {InScope}";

    public const string Extensions =
        $"SELECT x.extname, n.nspname, x.extversion FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace WHERE {InScope}";

    public const string Sequences = $"""
        SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,
               coalesce((SELECT t.relname || '.' || a.attname FROM pg_depend d
                         JOIN pg_class t ON t.oid = d.refobjid
                         JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                         WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass
                           AND d.deptype = 'a' LIMIT 1), '')
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {InScope} AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid AND e.deptype IN ('e', 'i'))
        """;

    public const string Functions = $"""
        SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), pg_get_function_arguments(p.oid), p.prokind = 'p',
               coalesce(pg_get_function_result(p.oid), ''), l.lanname, p.provolatile::text, p.proisstrict, p.prosecdef,
               p.prosqlbody IS NOT NULL, CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) ELSE p.prosrc END
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang
        WHERE {InScope} AND p.prokind IN ('f', 'p') AND {ProcNotFromExtension}
        """;

    public const string Tables = $"""
        SELECT n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {InScope} AND c.relkind IN ('r', 'p') AND {NotFromExtension}
        """;

    public const string Columns = $"""
        SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               CASE WHEN a.attgenerated = '' THEN coalesce(pg_get_expr(d.adbin, d.adrelid), '') ELSE '' END,
               CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' ELSE '' END,
               CASE WHEN a.attgenerated = 's' THEN pg_get_expr(d.adbin, d.adrelid) ELSE '' END
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE {InScope} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND {NotFromExtension}
        """;

    public const string Constraints = $"""
        SELECT n.nspname, c.relname, k.conname, k.contype::text, pg_get_constraintdef(k.oid), k.convalidated
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {InScope} AND k.contype IN ('p', 'u', 'f', 'c', 'x') AND k.conparentid = 0 AND {NotFromExtension}
        """;

    // Indexes a constraint owns (primary key, unique, exclusion) come with the constraint.
    public const string Indexes = $"""
        SELECT n.nspname, c.relname, i.relname, pg_get_indexdef(x.indexrelid), x.indisvalid,
               quote_ident(n.nspname) || '.' || quote_ident(c.relname), quote_ident(c.relname)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = i.relnamespace
        WHERE {InScope} AND c.relkind IN ('r', 'p', 'm') AND {NotFromExtension}
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conrelid = x.indrelid AND k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))
        """;

    public const string Views = $"""
        SELECT n.nspname, c.relname, c.relkind = 'm', pg_get_viewdef(c.oid)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {InScope} AND c.relkind IN ('v', 'm') AND {NotFromExtension}
        """;

    // What each view's rewrite rule depends on: relations and functions outside pg_catalog.
    public const string ViewDependencies = $"""
        SELECT n.nspname, c.relname, dn.nspname || '.' || dc.relname
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_rewrite r ON r.ev_class = c.oid
        JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid
        JOIN pg_class dc ON dc.oid = d.refobjid JOIN pg_namespace dn ON dn.oid = dc.relnamespace
        WHERE {InScope} AND c.relkind IN ('v', 'm') AND dn.nspname <> 'pg_catalog'
        UNION
        SELECT n.nspname, c.relname, {ProcKey}
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_rewrite r ON r.ev_class = c.oid
        JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_proc'::regclass
        JOIN pg_proc p ON p.oid = d.refobjid JOIN pg_namespace pn ON pn.oid = p.pronamespace
        WHERE {InScope} AND c.relkind IN ('v', 'm') AND pn.nspname <> 'pg_catalog'
        """;

    public const string Triggers = $"""
        SELECT n.nspname, c.relname, t.tgname, pg_get_triggerdef(t.oid), {ProcKey}, t.tgenabled::text,
               quote_ident(n.nspname) || '.' || quote_ident(c.relname), quote_ident(c.relname)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace
        WHERE {InScope} AND NOT t.tgisinternal AND {NotFromExtension}
        """;

    public const string Policies = $"""
        SELECT n.nspname, c.relname, p.polname,
               CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
               p.polpermissive,
               ARRAY(SELECT CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(r)::text END FROM unnest(p.polroles) r),
               coalesce(pg_get_expr(p.polqual, p.polrelid), ''), coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '')
        FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {InScope}
        """;

    private const string Grantee = "CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(x.grantee)::text END, x.privilege_type, x.is_grantable";

    // PostgreSQL's defaults stand in for a NULL acl, so "never granted" and "granted the defaults" read the same;
    // the owner's own privileges are left out (owners differ between environments).
    public const string Grants = $"""
        SELECT n.nspname, 'schema', '', {Grantee}
        FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) x
        WHERE {InScope} AND x.grantee <> n.nspowner
        UNION ALL
        SELECT n.nspname, CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END, c.relname, {Grantee}
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
             aclexplode(coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) x
        WHERE {InScope} AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND x.grantee <> c.relowner AND {NotFromExtension}
          AND NOT EXISTS (SELECT 1 FROM pg_depend i WHERE i.classid = 'pg_class'::regclass AND i.objid = c.oid AND i.deptype = 'i')
        UNION ALL
        SELECT n.nspname, CASE WHEN p.prokind = 'p' THEN 'procedure' ELSE 'function' END,
               p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', {Grantee}
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x
        WHERE {InScope} AND p.prokind IN ('f', 'p') AND x.grantee <> p.proowner AND {ProcNotFromExtension}
        """;

    public const string Comments = $"""
        SELECT n.nspname, 'schema', '', '', d.description
        FROM pg_description d JOIN pg_namespace n ON d.classoid = 'pg_namespace'::regclass AND d.objoid = n.oid
        WHERE {InScope}
        UNION ALL
        SELECT n.nspname,
               CASE WHEN d.objsubid > 0 THEN 'column' ELSE CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                    WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' WHEN 'S' THEN 'sequence' ELSE 'table' END END,
               CASE WHEN d.objsubid > 0 THEN c.relname ELSE '' END, CASE WHEN d.objsubid > 0 THEN a.attname ELSE c.relname END, d.description
        FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
        WHERE {InScope} AND c.relkind IN ('r', 'p', 'v', 'm', 'i', 'I', 'S') AND {NotFromExtension}
        UNION ALL
        SELECT n.nspname, CASE WHEN p.prokind = 'p' THEN 'procedure' ELSE 'function' END, '',
               p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', d.description
        FROM pg_description d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND d.objoid = p.oid
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE {InScope} AND p.prokind IN ('f', 'p') AND {ProcNotFromExtension}
        UNION ALL
        SELECT n.nspname, 'constraint', c.relname, k.conname, d.description
        FROM pg_description d JOIN pg_constraint k ON d.classoid = 'pg_constraint'::regclass AND d.objoid = k.oid
        JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {InScope}
        UNION ALL
        SELECT n.nspname, 'trigger', c.relname, t.tgname, d.description
        FROM pg_description d JOIN pg_trigger t ON d.classoid = 'pg_trigger'::regclass AND d.objoid = t.oid
        JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {InScope}
        UNION ALL
        SELECT n.nspname, 'policy', c.relname, p.polname, d.description
        FROM pg_description d JOIN pg_policy p ON d.classoid = 'pg_policy'::regclass AND d.objoid = p.oid
        JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE {InScope}
        """;
}
