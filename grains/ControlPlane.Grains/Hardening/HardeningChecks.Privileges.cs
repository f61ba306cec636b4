using ControlPlane.Postgres.Hardening;

namespace ControlPlane.Grains.Hardening;

public static partial class HardeningChecks
{
    /// <summary>Extensions that reach the server's files, other servers or untrusted code.</summary>
    internal static readonly string[] RiskyExtensions =
        ["adminpack", "dblink", "file_fdw", "postgres_fdw", "plperlu", "plpython3u", "plpythonu", "pltclu", "lo", "pg_execute_server_program"];

    private static IEnumerable<HardeningCheck> Privileges =>
    [
        new("CP-PRIV-01", "Only the expected superusers", CheckSeverity.High, "superusers: the policy's ExpectedSuperusers",
            "A superuser bypasses every permission check and can run programs on the host as the server's user.",
            "ALTER ROLE name NOSUPERUSER; give it the narrower privileges it needs.",
            (f, c) => Roles(f, r => r.Superuser, c.Expectations.ExpectedSuperusers, "superusers")),
        new("CP-PRIV-02", "Only the expected roles may create roles", CheckSeverity.Medium, "CREATEROLE: the policy's ExpectedCreateRoleRoles (and superusers)",
            "CREATEROLE can grant itself into most roles; it is nearly a superuser.",
            "ALTER ROLE name NOCREATEROLE;",
            (f, c) => Roles(f, r => r.CreateRole && !r.Superuser, c.Expectations.ExpectedCreateRoleRoles, "CREATEROLE roles")),
        new("CP-PRIV-03", "Only the expected roles bypass row-level security", CheckSeverity.High, "BYPASSRLS: the policy's ExpectedBypassRlsRoles (and superusers)",
            "Tenants sharing tables are separated by row-level security; BYPASSRLS reads every tenant's rows.",
            "ALTER ROLE name NOBYPASSRLS;",
            (f, c) => Roles(f, r => r.BypassRls && !r.Superuser, c.Expectations.ExpectedBypassRlsRoles, "BYPASSRLS roles")),
        new("CP-PRIV-04", "Only the expected replication roles", CheckSeverity.Medium, "REPLICATION: the policy's ExpectedReplicationRoles (and superusers)",
            "A replication role can stream the whole cluster's WAL, i.e. read every row of every database.",
            "ALTER ROLE name NOREPLICATION;",
            (f, c) => Roles(f, r => r.Replication && !r.Superuser, c.Expectations.ExpectedReplicationRoles, "REPLICATION roles")),
        new("CP-PRIV-05", "PUBLIC cannot create in schema public", CheckSeverity.High, "no CREATE for PUBLIC on schema public",
            "Anyone able to create objects in a schema on other roles' search_path can plant functions and operators they call (CVE-2018-1058).",
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC; (in every database)",
            (f, _) => f.PublicCreateOnPublicSchema is { } open
                ? Verdict.When(!open, open ? "PUBLIC has CREATE on schema public" : "PUBLIC has no CREATE on schema public")
                : Verdict.Unknown("the privileges of schema public cannot be read by this login")),
        new("CP-PRIV-06", "PUBLIC cannot execute file and administration functions", CheckSeverity.High, "no EXECUTE for PUBLIC on pg_read_file, lo_import, lo_export, ...",
            "These functions read or write the server's files or steer the server; granted to PUBLIC they give every login the host's data.",
            "REVOKE EXECUTE ON FUNCTION name(args) FROM PUBLIC; grant it to the one role that needs it.",
            (f, _) => NoneOf(f.PublicExecutableDangerousFunctions, "functions executable by PUBLIC")),
        new("CP-PRIV-07", "No untrusted procedural languages", CheckSeverity.Medium, "no untrusted language installed (plpython3u, plperlu, ...)",
            "Functions in an untrusted language run with the server's operating-system rights.",
            "DROP EXTENSION plpython3u; (or the language) unless a reviewed need exists, then accept the exception.",
            (f, _) => NoneOf(f.UntrustedLanguages, "untrusted languages")),
        new("CP-PRIV-08", "SECURITY DEFINER functions pin search_path", CheckSeverity.Medium, "every SECURITY DEFINER function has SET search_path",
            "A SECURITY DEFINER function resolving names through the caller's search_path runs the caller's objects with the owner's rights.",
            "ALTER FUNCTION name(args) SET search_path = pg_catalog, pg_temp;",
            (f, _) => NoneOf(f.UnpinnedSecurityDefiners, "SECURITY DEFINER functions without search_path")),
        new("CP-PRIV-09", "No extensions with known risks", CheckSeverity.Medium, "none of adminpack, dblink, file_fdw, postgres_fdw, untrusted languages, lo",
            "These extensions reach the server's files, other servers, or run untrusted code; each needs a reviewed reason.",
            "DROP EXTENSION name; or accept the exception with the reason.",
            (f, _) => NoneOf(f.Extensions?.Where(e => RiskyExtensions.Contains(e, StringComparer.Ordinal)).ToList(), "risky extensions")),
        new("CP-PRIV-10", "No role may read or write server files or run programs", CheckSeverity.High, "no members of pg_read_server_files, pg_write_server_files, pg_execute_server_program",
            "Membership of these predefined roles is file and shell access on the database host.",
            "REVOKE pg_execute_server_program FROM name; (and the others)",
            (f, _) => NoneOf(f.ServerFileRoleMembers, "members of server-file roles")),
    ];
}
