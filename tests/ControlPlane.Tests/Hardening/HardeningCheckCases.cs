using ControlPlane.Grains.Hardening;
using ControlPlane.Postgres.Hardening;
using static ControlPlane.Tests.Hardening.HardenedFacts;

namespace ControlPlane.Tests.Hardening;

/// <summary>For every check: an edit of the hardened facts (and policy) that fails exactly it, and one that leaves it
/// unknown (null for the few checks that judge only a declared policy, which is always known).</summary>
internal sealed record CheckCase(
    string Id,
    Func<HardeningFacts, HardeningFacts> Break,
    Func<HardeningFacts, HardeningFacts>? Blind,
    Func<HardeningExpectations, HardeningExpectations>? Policy = null,
    int? PoolCapacity = 80,
    DateTimeOffset? Now = null);

internal static class HardeningCheckCases
{
    private static HardeningExpectations Requiring(HardeningExpectations e, Action<HardeningExpectations> edit)
    {
        edit(e);
        return e;
    }

    public static IReadOnlyList<CheckCase> All { get; } =
    [
        new("CP-TLS-01", f => f.With("ssl", "off"), f => f.Without("ssl")),
        new("CP-TLS-02", f => f.With("ssl_min_protocol_version", "TLSv1.1"), f => f.Without("ssl_min_protocol_version")),
        new("CP-TLS-03", f => f.With("ssl_ciphers", "HIGH:MEDIUM:+3DES:!aNULL"), f => f.Without("ssl_ciphers")),
        new("CP-TLS-04", f => f.WithRule(Rule(3, "host", "app", "app", "127.0.0.1/32", "scram-sha-256")), f => f with { HbaRules = null }),
        new("CP-TLS-05", f => f.WithRule(Rule(3, "host", "replication", "replicator", "127.0.0.1/32", "scram-sha-256")), f => f with { HbaRules = null }),
        new("CP-AUTH-01", f => f.With("password_encryption", "md5"), f => f.Without("password_encryption")),
        new("CP-AUTH-02", f => f.WithRule(Rule(3, "hostssl", "app", "app", "127.0.0.1/32", "trust")), f => f with { HbaRules = null }),
        new("CP-AUTH-03", f => f.WithRule(Rule(3, "hostssl", "app", "app", "127.0.0.1/32", "password")), f => f with { HbaRules = null }),
        new("CP-AUTH-04", f => f.WithRule(Rule(3, "hostssl", "app", "app", "127.0.0.1/32", "md5")), f => f with { HbaRules = null }),
        new("CP-AUTH-05", f => f.WithRule(Rule(3, "hostssl", "app", "app", "0.0.0.0/0", "scram-sha-256")), f => f with { HbaRules = null }),
        new("CP-AUTH-06", f => f.WithRule(Rule(3, "hostssl", "all", "all", "10.0.0.0/8", "scram-sha-256")), f => f with { HbaRules = null }),
        new("CP-AUTH-07", f => f.WithRule(Rule(3, "hostssl", "all", "all", "127.0.0.1/32", "scram-sha-256", "invalid authentication method \"scram\"")), f => f with { HbaRules = null }),
        new("CP-AUTH-08", f => f.WithRole(Role("legacy") with { PasswordKind = "md5" }), f => f with { Roles = [.. f.Roles!.Select(r => r with { PasswordKind = null })] }),
        new("CP-AUTH-09", f => f.WithRole(Role("app")), f => f with { Roles = null }, e => Requiring(e, x => x.RequirePasswordExpiry = true)),
        new("CP-AUTH-10", f => f.WithRole(Role("gone") with { ValidUntil = HardenedFacts.Now.AddDays(-1) }), f => f with { Roles = null }),
        new("CP-AUTH-11", f => f.With("authentication_timeout", "300"), f => f.Without("authentication_timeout")),
        new("CP-PRIV-01", f => f.WithRole(Role("admin") with { Superuser = true }), f => f with { Roles = null }),
        new("CP-PRIV-02", f => f.WithRole(Role("hr") with { CreateRole = true }), f => f with { Roles = null }),
        new("CP-PRIV-03", f => f.WithRole(Role("reporting") with { BypassRls = true }), f => f with { Roles = null }),
        new("CP-PRIV-04", f => f.WithRole(Role("backup") with { Replication = true }), f => f with { Roles = null }),
        new("CP-PRIV-05", f => f with { PublicCreateOnPublicSchema = true }, f => f with { PublicCreateOnPublicSchema = null }),
        new("CP-PRIV-06", f => f with { PublicExecutableDangerousFunctions = ["pg_read_file(text)", "lo_export(oid,text)"] }, f => f with { PublicExecutableDangerousFunctions = null }),
        new("CP-PRIV-07", f => f with { UntrustedLanguages = ["plpython3u"] }, f => f with { UntrustedLanguages = null }),
        new("CP-PRIV-08", f => f with { UnpinnedSecurityDefiners = ["public.grant_all()"] }, f => f with { UnpinnedSecurityDefiners = null }),
        new("CP-PRIV-09", f => f with { Extensions = ["plpgsql", "dblink"] }, f => f with { Extensions = null }),
        new("CP-PRIV-10", f => f with { ServerFileRoleMembers = ["app in pg_read_server_files"] }, f => f with { ServerFileRoleMembers = null }),
        new("CP-LOG-01", f => f.With("log_connections", "off"), f => f.Without("log_connections")),
        new("CP-LOG-02", f => f.With("log_disconnections", "off"), f => f.Without("log_disconnections")),
        new("CP-LOG-03", f => f.With("log_statement", "none"), f => f.Without("log_statement")),
        new("CP-LOG-04", f => f.With("log_line_prefix", "%m "), f => f.Without("log_line_prefix")),
        new("CP-LOG-05", f => f, f => f.Without("shared_preload_libraries"), e => Requiring(e, x => x.RequirePgAudit = true)),
        new("CP-LOG-06", f => f.With("log_checkpoints", "off"), f => f.Without("log_checkpoints")),
        new("CP-LOG-07", f => f.With("log_min_messages", "fatal"), f => f.Without("log_min_error_statement")),
        new("CP-DATA-01", f => f.With("data_checksums", "off"), f => f.Without("data_checksums")),
        new("CP-DATA-02", f => f.With("fsync", "off"), f => f.Without("fsync")),
        new("CP-DATA-03", f => f.With("full_page_writes", "off"), f => f.Without("full_page_writes")),
        new("CP-NET-01", f => f.With("listen_addresses", "*"), f => f.Without("listen_addresses")),
        new("CP-NET-02", f => f.With("max_connections", "50"), f => f.Without("max_connections")),
        new("CP-NET-03", f => f.With("superuser_reserved_connections", "0"), f => f.Without("superuser_reserved_connections")),
        new("CP-VER-01", f => f with { ServerVersionNum = 150010 }, f => f with { ServerVersionNum = null }),
        new("CP-VER-02", f => f, f => f with { ServerVersionNum = null }, Now: new DateTimeOffset(2028, 1, 1, 0, 0, 0, TimeSpan.Zero)),
        new("CP-BAK-01", f => f, null, e => Requiring(e, x => x.BackupRepositoryEncrypted = false)),
    ];
}
