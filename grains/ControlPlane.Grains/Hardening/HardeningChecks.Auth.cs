using System.Globalization;
using ControlPlane.Postgres.Hardening;

namespace ControlPlane.Grains.Hardening;

public static partial class HardeningChecks
{
    private static IEnumerable<HardeningCheck> Auth =>
    [
        new("CP-AUTH-01", "Passwords are hashed with SCRAM", CheckSeverity.High, "password_encryption = scram-sha-256",
            "md5 hashes are replayable and crackable; SCRAM never sends or stores a password-equivalent.",
            "ALTER SYSTEM SET password_encryption = 'scram-sha-256'; reload; reset every password so it is re-hashed.",
            (f, _) => Setting(f, "password_encryption", v => v == "scram-sha-256")),
        new("CP-AUTH-02", "No trust authentication", CheckSeverity.High, "no pg_hba.conf line with method trust",
            "trust lets anyone who reaches the address log in as any role, superusers included, without a password.",
            "Replace trust with scram-sha-256 (or cert) in pg_hba.conf; SELECT pg_reload_conf();",
            (f, _) => Hba(f, r => r.Method == "trust", "no trust lines")),
        new("CP-AUTH-03", "No clear-text password authentication", CheckSeverity.High, "no pg_hba.conf line with method password",
            "password sends the password in clear text over the connection.",
            "Replace password with scram-sha-256 in pg_hba.conf; SELECT pg_reload_conf();",
            (f, _) => Hba(f, r => r.Method == "password", "no password lines")),
        new("CP-AUTH-04", "No md5 authentication", CheckSeverity.Medium, "no pg_hba.conf line with method md5",
            "md5 accepts md5 hashes, which are password-equivalent; scram-sha-256 resists replay and offline attacks.",
            "Re-hash passwords as SCRAM, then replace md5 with scram-sha-256 in pg_hba.conf; reload.",
            (f, _) => Hba(f, r => r.Method == "md5", "no md5 lines")),
        new("CP-AUTH-05", "No line open to every address", CheckSeverity.High, "no pg_hba.conf line for all, 0.0.0.0/0 or ::/0",
            "A line open to the whole internet leaves brute force and exploits of authentication one firewall mistake away.",
            "Narrow the address of the line to the networks of the application and the fleet's hosts.",
            (f, _) => Hba(f, r => r.Type != "local" && IsEverywhere(r.Address), "no line open to every address")),
        new("CP-AUTH-06", "No all-databases, all-users line from the network", CheckSeverity.Medium, "lines from non-loopback networks name their databases or users",
            "A line for all databases and all users from a network gives every role on it a way into every database; least privilege names them.",
            "Split the line into lines naming the databases and roles (or +groups) that connect from that network.",
            (f, _) => Hba(f, r => r.Type != "local" && r.Databases.SequenceEqual(["all"]) && r.Users.SequenceEqual(["all"]) && !IsLoopback(r.Address),
                "all-all lines come from loopback only")),
        new("CP-AUTH-07", "pg_hba.conf has no broken lines", CheckSeverity.Medium, "no line with a parse error",
            "A broken line is skipped at the next reload; the rules in force differ from the rules written.",
            "Fix the lines pg_hba_file_rules reports with an error, then reload.",
            (f, _) => f.HbaRules is { } rules
                ? Verdict.When(!rules.Any(r => r.Error is not null), Names(rules.Where(r => r.Error is not null).Select(r => $"line {r.Line}: {r.Error}")))
                : Verdict.Unknown("pg_hba_file_rules cannot be read by this login")),
        new("CP-AUTH-08", "Stored passwords are SCRAM verifiers", CheckSeverity.High, "no role with an md5 or clear-text stored password",
            "A role whose password was set before SCRAM, or with a literal md5 hash, keeps an md5 verifier that md5 lines accept.",
            "ALTER ROLE name PASSWORD '...'; with password_encryption = scram-sha-256.",
            (f, _) => f.Roles is { } roles && roles.All(r => r.PasswordKind is not null)
                ? NoneOf(roles.Where(r => r.PasswordKind is "md5" or "plain").Select(r => $"{r.Name} ({r.PasswordKind})").ToList(), "roles with weak stored passwords")
                : Verdict.Unknown("pg_authid can be read by superusers only")),
        new("CP-AUTH-09", "Login roles expire their passwords", CheckSeverity.Low, "VALID UNTIL on login roles, when the policy requires it",
            "A password that never expires stays valid after it leaks; policy may require rotation.",
            "ALTER ROLE name VALID UNTIL '2027-06-30'; (and rotate before that date).",
            (f, c) => !c.Expectations.RequirePasswordExpiry
                ? Verdict.Pass("not required by policy (RequirePasswordExpiry = false)")
                : NoneOf(f.Roles?.Where(r => r.CanLogin && r.ValidUntil is null
                        && !c.Expectations.ExpectedSuperusers.Contains(r.Name) && !c.Expectations.ExpectedReplicationRoles.Contains(r.Name))
                    .Select(r => r.Name).ToList(), "login roles without VALID UNTIL")),
        new("CP-AUTH-10", "No expired login role keeps a password", CheckSeverity.Low, "no login role whose VALID UNTIL has passed",
            "An expired role is a forgotten one: its password no longer works, but it still owns objects and grants.",
            "Drop the role, or NOLOGIN it, or rotate its password with a new VALID UNTIL.",
            (f, c) => NoneOf(f.Roles?.Where(r => r.CanLogin && r.ValidUntil < c.Now)
                .Select(r => $"{r.Name} (expired {r.ValidUntil!.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)})").ToList(), "expired login roles")),
        new("CP-AUTH-11", "Authentication cannot be held open for long", CheckSeverity.Low, "authentication_timeout at most 60 s",
            "Half-finished authentications hold connection slots; a short timeout bounds that denial of service.",
            "ALTER SYSTEM SET authentication_timeout = '30s'; reload.",
            (f, _) => Setting(f, "authentication_timeout", v => int.TryParse(v, out var s) && s <= 60)),
    ];
}
