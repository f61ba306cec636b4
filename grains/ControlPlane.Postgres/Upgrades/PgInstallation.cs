using System.Globalization;

namespace ControlPlane.Postgres.Upgrades;

/// <summary>
/// One PostgreSQL installation on this host: a major version, its bin directory and which of the tools an upgrade
/// may need it holds. Found once (<see cref="PgInstallations.Discover"/>), then read by the pure method policy.
/// </summary>
/// <param name="Origin">Where it was found: <c>configured</c> or <c>debian</c>.</param>
public sealed record PgInstallation(int Major, string BinDirectory, IReadOnlySet<string> Tools, string Origin)
{
    public const string Configured = "configured";
    public const string Debian = "debian";

    /// <summary>initdb, pg_ctl and postgres: enough to run a server of this version.</summary>
    public static readonly IReadOnlyList<string> ServerTools = ["initdb", "pg_ctl", "postgres"];

    /// <summary>The client tools a logical copy or a dump uses (schema, roles, data).</summary>
    public static readonly IReadOnlyList<string> ClientTools = ["pg_dump", "pg_dumpall", "pg_restore", "psql"];

    /// <summary>What pg_upgrade runs from the new installation besides itself (its own check of the new bin directory).</summary>
    public static readonly IReadOnlyList<string> PgUpgradeNewTools =
        ["pg_upgrade", "initdb", "pg_ctl", "postgres", "pg_controldata", "pg_resetwal", "pg_dump", "pg_dumpall", "pg_restore", "psql", "vacuumdb"];

    /// <summary>What pg_upgrade runs from the old installation.</summary>
    public static readonly IReadOnlyList<string> PgUpgradeOldTools = ["pg_ctl", "postgres", "pg_controldata"];

    public bool Has(string tool) => Tools.Contains(tool);

    public IReadOnlyList<string> Missing(IEnumerable<string> tools) => [.. tools.Where(t => !Has(t))];

    public string Tool(string name) => Path.Combine(BinDirectory, name);
}

/// <summary>Finds the installations: configured bin directories (major → directory) first, then <c>/usr/lib/postgresql/*/bin</c>.</summary>
public static class PgInstallations
{
    public const string DebianRoot = "/usr/lib/postgresql";

    private static readonly string[] Known = [.. PgInstallation.PgUpgradeNewTools.Concat(PgInstallation.ClientTools).Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// Every installation with at least a server or a client tool, one per major (a configured directory wins over
    /// Debian's of the same major, so an operator can point a major elsewhere). Ordered by major.
    /// </summary>
    public static IReadOnlyList<PgInstallation> Discover(IReadOnlyDictionary<int, string> configured, string debianRoot = DebianRoot)
    {
        ArgumentNullException.ThrowIfNull(configured);
        var found = new Dictionary<int, PgInstallation>();
        foreach (var (major, directory) in configured)
        {
            found[major] = Read(major, directory, PgInstallation.Configured);
        }
        if (Directory.Exists(debianRoot))
        {
            foreach (var versionDirectory in Directory.GetDirectories(debianRoot))
            {
                if (!int.TryParse(Path.GetFileName(versionDirectory), NumberStyles.None, CultureInfo.InvariantCulture, out var major)) continue;
                if (found.ContainsKey(major)) continue;
                var installation = Read(major, Path.Combine(versionDirectory, "bin"), PgInstallation.Debian);
                if (installation.Tools.Count > 0) found[major] = installation;
            }
        }
        return [.. found.Values.OrderBy(i => i.Major)];
    }

    /// <summary>The tools present in <paramref name="binDirectory"/> (a missing directory has none).</summary>
    public static PgInstallation Read(int major, string binDirectory, string origin)
    {
        var full = Path.GetFullPath(binDirectory);
        var tools = Known.Where(t => File.Exists(Path.Combine(full, t))).ToHashSet(StringComparer.Ordinal);
        return new PgInstallation(major, full, tools, origin);
    }

    /// <summary>The major of a <c>server_version</c> string ("15.14 (Debian 15.14-0+deb12u1)", "17.10"); 0 when unreadable.</summary>
    public static int MajorOf(string? serverVersion)
    {
        if (string.IsNullOrEmpty(serverVersion)) return 0;
        var digits = new string([.. serverVersion.TakeWhile(char.IsAsciiDigit)]);
        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var major) ? major : 0;
    }
}
