using ControlPlane.Postgres.Hardening;

namespace ControlPlane.Grains.Hardening;

public static partial class HardeningChecks
{
    /// <summary>Cipher classes that must not be enabled (a token counts unless negated with ! or -).</summary>
    private static readonly string[] WeakCipherTokens = ["MEDIUM", "LOW", "EXPORT", "EXP", "NULL", "eNULL", "aNULL", "RC4", "3DES", "DES", "MD5", "ALL", "DEFAULT"];

    private static readonly string[] StrongTlsVersions = ["TLSv1.2", "TLSv1.3"];

    private static IEnumerable<HardeningCheck> Tls =>
    [
        new("CP-TLS-01", "TLS is on", CheckSeverity.High, "ssl = on",
            "Without TLS every query and result crosses the network in clear text, readable and alterable on the way.",
            "Install a certificate and key (ssl_cert_file, ssl_key_file) and set ssl = on; reload.",
            (f, _) => Setting(f, "ssl", IsOn)),
        new("CP-TLS-02", "TLS minimum protocol is 1.2 or newer", CheckSeverity.High, "ssl_min_protocol_version = TLSv1.2 or TLSv1.3",
            "TLS 1.0 and 1.1 have known weaknesses and are deprecated (RFC 8996).",
            "ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1.2'; SELECT pg_reload_conf();",
            (f, _) => Setting(f, "ssl_min_protocol_version", v => StrongTlsVersions.Contains(v, StringComparer.Ordinal))),
        new("CP-TLS-03", "No weak TLS cipher classes", CheckSeverity.Medium, "ssl_ciphers without MEDIUM, LOW, NULL, EXPORT, RC4, 3DES, MD5",
            "Weak ciphers let a downgraded TLS 1.2 session be broken; TLS 1.3 suites are not governed by this setting.",
            "ALTER SYSTEM SET ssl_ciphers = 'HIGH:!aNULL:!MD5'; SELECT pg_reload_conf();",
            (f, _) => Setting(f, "ssl_ciphers", v => !WeakCiphers(v).Any())),
        new("CP-TLS-04", "Client connections must use TLS", CheckSeverity.Medium, "every TCP pg_hba.conf line for databases is hostssl",
            "A host or hostnossl line lets a client (or a downgrade attack) connect without TLS even when the server offers it.",
            "Change host lines to hostssl in pg_hba.conf, drop hostnossl lines; SELECT pg_reload_conf();",
            (f, _) => Hba(f, r => !IsReplication(r) && (r.Type is "host" or "hostnossl"), "every client TCP line is hostssl")),
        new("CP-TLS-05", "Replication and backups travel over TLS", CheckSeverity.Medium, "every replication pg_hba.conf line is hostssl",
            "Standbys, pg_basebackup and the WAL archiver carry every byte of the database; in transit they need TLS like clients (with CP-TLS-01).",
            "Write the replication lines of pg_hba.conf as hostssl; reload.",
            (f, _) => Hba(f, r => IsReplication(r) && (r.Type is "host" or "hostnossl"), "replication lines are hostssl")),
    ];

    private static bool IsReplication(HbaRule rule) => rule.Databases.Contains("replication", StringComparer.Ordinal);

    internal static IEnumerable<string> WeakCiphers(string ciphers) =>
        ciphers.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(t => !t.StartsWith('!') && !t.StartsWith('-'))
            .Select(t => t.TrimStart('+'))
            .Where(t => t.Split('+').Any(part => WeakCipherTokens.Contains(part, StringComparer.Ordinal)));
}
