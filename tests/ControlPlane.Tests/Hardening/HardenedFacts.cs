using ControlPlane.Grains.Hardening;
using ControlPlane.Postgres.Hardening;

namespace ControlPlane.Tests.Hardening;

/// <summary>Facts of an instance that passes every check, and small edits that break or blind exactly one.</summary>
internal static class HardenedFacts
{
    public static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    public static HardeningFacts Facts { get; } = new(
        Settings: new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ssl"] = "on",
            ["ssl_min_protocol_version"] = "TLSv1.2",
            ["ssl_ciphers"] = "HIGH:!aNULL:!MD5",
            ["password_encryption"] = "scram-sha-256",
            ["authentication_timeout"] = "60",
            ["log_connections"] = "on",
            ["log_disconnections"] = "on",
            ["log_statement"] = "ddl",
            ["log_line_prefix"] = "%m [%p] %q%u@%d ",
            ["shared_preload_libraries"] = "",
            ["log_checkpoints"] = "on",
            ["log_min_messages"] = "warning",
            ["log_min_error_statement"] = "error",
            ["data_checksums"] = "on",
            ["fsync"] = "on",
            ["full_page_writes"] = "on",
            ["listen_addresses"] = "127.0.0.1",
            ["max_connections"] = "100",
            ["superuser_reserved_connections"] = "3",
            ["server_version_num"] = "150018",
        },
        HbaRules:
        [
            Rule(1, "hostssl", "all", "all", "127.0.0.1/32", "scram-sha-256"),
            Rule(2, "hostssl", "replication", "replicator", "127.0.0.1/32", "scram-sha-256"),
        ],
        Roles:
        [
            new RoleFact("postgres", Superuser: true, CreateRole: true, BypassRls: true, Replication: true, CanLogin: true, ValidUntil: null, PasswordKind: "scram"),
            new RoleFact("replicator", false, false, false, Replication: true, CanLogin: true, null, "scram"),
        ],
        PublicCreateOnPublicSchema: false,
        PublicExecutableDangerousFunctions: [],
        UntrustedLanguages: [],
        UnpinnedSecurityDefiners: [],
        Extensions: ["plpgsql"],
        ServerFileRoleMembers: [],
        ServerVersionNum: 150018);

    public static HardeningContext Context(HardeningExpectations? expectations = null) =>
        new(expectations ?? new HardeningExpectations { BackupRepositoryEncrypted = true }, PoolCapacity: 80, ControlPlaneReserve: 5, Now);

    public static HbaRule Rule(int line, string type, string database, string user, string? address, string method, string? error = null) =>
        new(line, type, [database], [user], address, method, error);

    public static HardeningFacts With(this HardeningFacts facts, string setting, string value) =>
        facts with { Settings = new Dictionary<string, string>(facts.Settings!, StringComparer.Ordinal) { [setting] = value } };

    public static HardeningFacts Without(this HardeningFacts facts, string setting)
    {
        var settings = new Dictionary<string, string>(facts.Settings!, StringComparer.Ordinal);
        settings.Remove(setting);
        return facts with { Settings = settings };
    }

    public static HardeningFacts WithRule(this HardeningFacts facts, HbaRule rule) => facts with { HbaRules = [.. facts.HbaRules!, rule] };

    public static HardeningFacts WithRole(this HardeningFacts facts, RoleFact role) => facts with { Roles = [.. facts.Roles!, role] };

    public static RoleFact Role(string name) => new(name, false, false, false, false, CanLogin: true, null, "scram");
}
