namespace ControlPlane.Postgres.Hardening;

/// <summary>One line of pg_hba.conf as <c>pg_hba_file_rules</c> shows it.</summary>
/// <param name="Type">local, host, hostssl, hostnossl, hostgssenc, hostnogssenc.</param>
/// <param name="Address">The address or keyword (all, samehost, samenet) as written, with its mask length when known ("0.0.0.0/0").</param>
/// <param name="Error">The parse error of the line, when PostgreSQL reports one.</param>
public sealed record HbaRule(int Line, string Type, IReadOnlyList<string> Databases, IReadOnlyList<string> Users, string? Address, string Method, string? Error);

/// <summary>One role's attributes that the audit judges.</summary>
/// <param name="PasswordKind">scram, md5, plain or none; null when the password hashes cannot be read (not a superuser).</param>
public sealed record RoleFact(
    string Name,
    bool Superuser,
    bool CreateRole,
    bool BypassRls,
    bool Replication,
    bool CanLogin,
    DateTimeOffset? ValidUntil,
    string? PasswordKind);

/// <summary>
/// What the hardening audit knows about one instance, read over SQL. A null member is a fact that could not be read
/// (a missing privilege, a view that does not exist in this version): the checks that need it answer "unknown".
/// </summary>
/// <param name="Settings">pg_settings name → setting; a setting the role may not read is absent.</param>
/// <param name="ServerFileRoleMembers">"role → predefined role" pairs for pg_read_server_files, pg_write_server_files, pg_execute_server_program.</param>
public sealed record HardeningFacts(
    IReadOnlyDictionary<string, string>? Settings,
    IReadOnlyList<HbaRule>? HbaRules,
    IReadOnlyList<RoleFact>? Roles,
    bool? PublicCreateOnPublicSchema,
    IReadOnlyList<string>? PublicExecutableDangerousFunctions,
    IReadOnlyList<string>? UntrustedLanguages,
    IReadOnlyList<string>? UnpinnedSecurityDefiners,
    IReadOnlyList<string>? Extensions,
    IReadOnlyList<string>? ServerFileRoleMembers,
    int? ServerVersionNum)
{
    public static HardeningFacts Unreadable { get; } = new(null, null, null, null, null, null, null, null, null, null);

    /// <summary>A setting's value, null when unreadable.</summary>
    public string? Setting(string name) => Settings is not null && Settings.TryGetValue(name, out var v) ? v : null;
}
