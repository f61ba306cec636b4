using System.Globalization;
using ControlPlane.Postgres.Hardening;

namespace ControlPlane.Grains.Hardening;

public static partial class HardeningChecks
{
    private static readonly string[] WildcardAddresses = ["*", "0.0.0.0", "::"];

    private static IEnumerable<HardeningCheck> Platform =>
    [
        new("CP-DATA-01", "Data checksums are on", CheckSeverity.Medium, "data_checksums = on",
            "Without checksums, storage corruption is read back silently and replicated into backups.",
            "initdb --data-checksums for new clusters; pg_checksums --enable on a stopped cluster.",
            (f, _) => Setting(f, "data_checksums", IsOn)),
        new("CP-DATA-02", "fsync is on", CheckSeverity.High, "fsync = on",
            "With fsync off a crash of the host can corrupt the cluster beyond repair.",
            "ALTER SYSTEM SET fsync = on; reload.",
            (f, _) => Setting(f, "fsync", IsOn)),
        new("CP-DATA-03", "Full page writes are on", CheckSeverity.High, "full_page_writes = on",
            "Torn pages after a crash are only repairable from the full page images in WAL.",
            "ALTER SYSTEM SET full_page_writes = on; reload.",
            (f, _) => Setting(f, "full_page_writes", IsOn)),
        new("CP-NET-01", "Not listening on every interface", CheckSeverity.Medium, "listen_addresses names the interfaces (no *, 0.0.0.0 or ::)",
            "Listening everywhere exposes the server on networks nobody meant it to serve.",
            "ALTER SYSTEM SET listen_addresses = '10.0.0.5'; restart.",
            (f, _) => Setting(f, "listen_addresses", v => !v.Split(',', StringSplitOptions.TrimEntries).Any(a => WildcardAddresses.Contains(a, StringComparer.Ordinal)))),
        new("CP-NET-02", "max_connections covers the tier's pool", CheckSeverity.Medium, "pool capacity + control-plane reserve + superuser_reserved_connections <= max_connections",
            "A pool granting more than the server admits turns load into refused connections; a far larger max_connections wastes memory per slot.",
            "Raise max_connections (restart) or lower the pool's capacity (cpctl pool settings).",
            (f, c) => MaxConnectionsVerdict(f, c)),
        new("CP-NET-03", "Connection slots are reserved for superusers", CheckSeverity.Low, "superuser_reserved_connections >= 3",
            "When clients exhaust max_connections an administrator must still get in to repair.",
            "ALTER SYSTEM SET superuser_reserved_connections = 3; restart.",
            (f, _) => Setting(f, "superuser_reserved_connections", v => int.TryParse(v, out var n) && n >= 3)),
        new("CP-VER-01", "Server runs the newest known minor release", CheckSeverity.High, "the newest minor of its major in the versions table",
            "Minor releases carry security fixes only; running an older one leaves published vulnerabilities open.",
            "Install the newest minor of the same major and restart (no dump/restore needed).",
            (f, _) => MinorVerdict(f)),
        new("CP-VER-02", "Server's major version is supported", CheckSeverity.High, "a major release before its end of life",
            "After end of life no security fixes are released for the major version.",
            "Plan a major upgrade (pg_upgrade or logical replication) to a supported release.",
            (f, c) => MajorVerdict(f, c)),
        new("CP-BAK-01", "Backup repository is encrypted at rest", CheckSeverity.Medium, "BackupRepositoryEncrypted = true (the repository sits on encrypted storage)",
            "Base backups and WAL are the whole database; a copied disk or bucket must not be readable.",
            "Put the repository on an encrypted volume or bucket and declare it (ControlPlane:Hardening:BackupRepositoryEncrypted = true).",
            (_, c) => Verdict.When(c.Expectations.BackupRepositoryEncrypted,
                c.Expectations.BackupRepositoryEncrypted ? "declared encrypted at rest" : "not declared encrypted at rest")),
    ];

    private static Verdict MaxConnectionsVerdict(HardeningFacts f, HardeningContext c)
    {
        if (!int.TryParse(f.Setting("max_connections"), out var max) || !int.TryParse(f.Setting("superuser_reserved_connections"), out var reserved))
            return Verdict.Unknown("max_connections or superuser_reserved_connections cannot be read by this login");
        if (c.NoPool is { } why) return Verdict.Unknown($"max_connections = {max}; {why}");
        if (c.PoolCapacity is not { } capacity) return Verdict.Unknown($"max_connections = {max}; the tier's pool has not sampled its capacity yet");
        var needed = capacity + c.ControlPlaneReserve + reserved;
        return Verdict.When(needed <= max, $"max_connections = {max}; pool capacity {capacity} + reserve {c.ControlPlaneReserve} + superuser reserved {reserved} = {needed}");
    }

    private static Verdict MinorVerdict(HardeningFacts f)
    {
        if (f.ServerVersionNum is not { } num) return Verdict.Unknown("server_version_num cannot be read");
        var (major, minor) = KnownVersions.Split(num);
        if (KnownVersions.Find(major) is not { NewestMinor: { } newest })
            return Verdict.Unknown($"{major}.{minor}: the versions table (updated {KnownVersions.UpdatedOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}) does not know the newest {major}.x");
        return Verdict.When(minor >= newest, $"{major}.{minor} (newest known {major}.{newest}, table updated {KnownVersions.UpdatedOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)})");
    }

    private static Verdict MajorVerdict(HardeningFacts f, HardeningContext c)
    {
        if (f.ServerVersionNum is not { } num) return Verdict.Unknown("server_version_num cannot be read");
        var (major, minor) = KnownVersions.Split(num);
        if (KnownVersions.Find(major) is not { } known) return Verdict.Unknown($"{major}.{minor}: not in the versions table");
        var today = DateOnly.FromDateTime(c.Now.UtcDateTime);
        return Verdict.When(today <= known.EndOfLife, $"{major}.{minor}, supported until {known.EndOfLife.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}");
    }
}
