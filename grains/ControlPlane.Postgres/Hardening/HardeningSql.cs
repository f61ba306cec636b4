namespace ControlPlane.Postgres.Hardening;

/// <summary>
/// The audit's queries, one per fact, read-only. Each stays within what any role may read except where noted;
/// a query refused for privilege leaves its fact unknown rather than failing the audit.
/// </summary>
internal static class HardeningSql
{
    /// <summary>Settings a role may not read are simply absent from pg_settings.</summary>
    public const string Settings = "SELECT name, setting FROM pg_settings";

    /// <summary>Superuser (or an explicit grant) only.</summary>
    public const string HbaRules = """
        SELECT line_number, type, COALESCE(database, '{}'), COALESCE(user_name, '{}'), address, netmask,
               COALESCE(auth_method, ''), error
          FROM pg_hba_file_rules
         ORDER BY line_number
        """;

    /// <summary>Infinite expiry reads as NULL, like no expiry: both mean "never".</summary>
    public const string Roles = """
        SELECT rolname, rolsuper, rolcreaterole, rolbypassrls, rolreplication, rolcanlogin,
               CASE WHEN rolvaliduntil = 'infinity' THEN NULL ELSE rolvaliduntil END
          FROM pg_roles
         WHERE rolname !~ '^pg_'
         ORDER BY rolname
        """;

    /// <summary>Superuser only. Only the kind of the stored verifier leaves the server, never the verifier.</summary>
    public const string PasswordKinds = """
        SELECT rolname,
               CASE WHEN rolpassword IS NULL THEN 'none'
                    WHEN rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram'
                    WHEN rolpassword ~ '^md5[0-9a-f]{32}$' THEN 'md5'
                    ELSE 'plain' END
          FROM pg_authid
         WHERE rolname !~ '^pg_'
        """;

    /// <summary>"public" as a role name means the PUBLIC pseudo-role to the has_*_privilege functions.</summary>
    public const string PublicCreateOnPublic = """
        SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'public')
                    THEN has_schema_privilege('public', 'public', 'CREATE') ELSE false END
        """;

    public const string PublicExecutable = """
        SELECT p.oid::regprocedure::text
          FROM pg_proc p
         WHERE p.proname = ANY($1) AND has_function_privilege('public', p.oid, 'EXECUTE')
         ORDER BY 1
        """;

    /// <summary>c and internal are not procedural languages anyone can CREATE FUNCTION in without superuser.</summary>
    public const string UntrustedLanguages =
        "SELECT lanname FROM pg_language WHERE NOT lanpltrusted AND lanname NOT IN ('c', 'internal') ORDER BY 1";

    /// <summary>Bounded: the audit reports them, a thousand names would not help anyone more than a hundred.</summary>
    public const string UnpinnedSecurityDefiners = """
        SELECT p.oid::regprocedure::text
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND NOT EXISTS (SELECT 1 FROM unnest(COALESCE(p.proconfig, '{}')) c WHERE c LIKE 'search\_path=%')
         ORDER BY 1
         LIMIT 100
        """;

    public const string Extensions = "SELECT extname FROM pg_extension ORDER BY 1";

    public const string ServerFileRoleMembers = """
        SELECT m.rolname || ' in ' || g.rolname
          FROM pg_auth_members am
          JOIN pg_roles m ON m.oid = am.member
          JOIN pg_roles g ON g.oid = am.roleid
         WHERE g.rolname IN ('pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program')
         ORDER BY 1
        """;

    /// <summary>Functions that read or write the server's files or run programs: never for PUBLIC.</summary>
    public static readonly string[] DangerousFunctions =
    [
        "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_ls_logdir", "pg_ls_waldir",
        "pg_ls_tmpdir", "pg_ls_archive_statusdir", "lo_import", "lo_export", "pg_file_write", "pg_file_rename",
        "pg_file_unlink", "pg_logdir_ls", "dblink_connect_u", "pg_reload_conf", "pg_rotate_logfile",
        "pg_promote", "pg_create_restore_point", "pg_switch_wal", "pg_start_backup", "pg_backup_start",
    ];
}
