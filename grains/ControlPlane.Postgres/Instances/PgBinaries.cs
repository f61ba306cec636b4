using System.Diagnostics;
using System.Globalization;

namespace ControlPlane.Postgres.Instances;

/// <summary>
/// Where the PostgreSQL server binaries live. Looked up on PATH, then <c>pg_config --bindir</c>, then
/// <c>/usr/lib/postgresql/*/bin</c> newest major first (Debian keeps initdb and pg_ctl off PATH).
/// </summary>
public sealed class PgBinaries
{
    private static readonly string[] Required = ["initdb", "pg_ctl", "postgres", "pg_basebackup"];
    // PublicationOnly: a failed search is not cached, so installing PostgreSQL later is picked up.
    private static readonly Lazy<PgBinaries> Default = new(Locate, LazyThreadSafetyMode.PublicationOnly);

    public PgBinaries(string binDirectory)
    {
        BinDirectory = binDirectory;
    }

    public string BinDirectory { get; }

    /// <summary>The binaries found by the default search, located once per process.</summary>
    public static PgBinaries Shared => Default.Value;

    /// <summary>Full path of one tool in <see cref="BinDirectory"/>.</summary>
    public string Tool(string name)
    {
        var path = Path.Combine(BinDirectory, name);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"PostgreSQL tool '{name}' is not in '{BinDirectory}'.", path);
        }
        return path;
    }

    /// <summary>Searches the usual places; the error names every place it looked.</summary>
    public static PgBinaries Locate()
    {
        var looked = new List<string>();

        var onPath = OsUser.FindOnPath("pg_ctl");
        if (onPath is not null && HasAll(Path.GetDirectoryName(onPath)!)) return new PgBinaries(Path.GetDirectoryName(onPath)!);
        looked.Add("PATH (no directory with " + string.Join(", ", Required) + ")");

        var pgConfig = OsUser.FindOnPath("pg_config");
        var bindir = pgConfig is null ? null : PgConfigBindir(pgConfig);
        if (bindir is not null && HasAll(bindir)) return new PgBinaries(bindir);
        looked.Add(pgConfig is null ? "pg_config --bindir (pg_config not on PATH)" : $"pg_config --bindir ({bindir ?? "no answer"})");

        const string debianRoot = "/usr/lib/postgresql";
        var majors = Directory.Exists(debianRoot)
            ? Directory.GetDirectories(debianRoot)
                .Select(d => (dir: Path.Combine(d, "bin"), major: decimal.TryParse(Path.GetFileName(d), NumberStyles.Number, CultureInfo.InvariantCulture, out var m) ? m : -1))
                .OrderByDescending(x => x.major)
                .Select(x => x.dir)
                .ToList()
            : [];
        foreach (var dir in majors)
        {
            if (HasAll(dir)) return new PgBinaries(dir);
        }
        looked.Add($"{debianRoot}/*/bin ({(majors.Count == 0 ? "none" : string.Join(", ", majors))})");

        throw new FileNotFoundException(
            "PostgreSQL server binaries (" + string.Join(", ", Required) + ") not found; looked in: "
            + string.Join("; ", looked) + ". Install the PostgreSQL server package or put its bin directory on PATH.");
    }

    private static bool HasAll(string dir) => Required.All(t => File.Exists(Path.Combine(dir, t)));

    private static string? PgConfigBindir(string pgConfig)
    {
        try
        {
            var psi = new ProcessStartInfo(pgConfig, "--bindir") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi);
            if (p is null) return null;
            var output = p.StandardOutput.ReadToEnd().Trim();
            if (!p.WaitForExit(5000)) { p.Kill(); return null; }
            return p.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }
}
