namespace ControlPlane.Grains.Hardening;

/// <summary>One PostgreSQL major version: the newest minor release known to this table and its end of support.</summary>
/// <param name="NewestMinor">Null when the table does not know the newest minor of that major (the check is then unknown).</param>
public sealed record KnownMajor(int Major, int? NewestMinor, DateOnly EndOfLife);

/// <summary>
/// The versions table the CP-VER checks read. Kept by hand: update <see cref="UpdatedOn"/> with every edit, and add
/// each new minor as it ships (https://www.postgresql.org/support/versioning/). End-of-life dates follow the
/// project's five-year policy. A minor is only entered once seen released (15.18: the Debian 12 security update
/// installed on the build host on the date below).
/// </summary>
public static class KnownVersions
{
    public static DateOnly UpdatedOn { get; } = new(2026, 12, 6);

    public static IReadOnlyList<KnownMajor> Majors { get; } =
    [
        new(13, null, new DateOnly(2025, 11, 13)),
        new(14, null, new DateOnly(2026, 11, 12)),
        new(15, 18, new DateOnly(2027, 11, 11)),
        new(16, null, new DateOnly(2028, 11, 9)),
        new(17, null, new DateOnly(2029, 11, 8)),
        new(18, null, new DateOnly(2030, 11, 14)),
    ];

    /// <summary>Major and minor of a server_version_num (150018 → 15, 18).</summary>
    public static (int Major, int Minor) Split(int serverVersionNum) => (serverVersionNum / 10000, serverVersionNum % 10000);

    public static KnownMajor? Find(int major) => Majors.FirstOrDefault(m => m.Major == major);
}
