using ControlPlane.Postgres.Instances;

namespace ControlPlane.Postgres.Monitoring;

/// <summary>
/// The postgresql.conf lines that load pg_stat_statements on an embedded instance, when the server's contrib library
/// is installed beside its binaries (a server without it would refuse to start with the setting, so then none).
/// </summary>
public static class StatementsPreload
{
    public const string Library = "pg_stat_statements";

    public static IReadOnlyList<string> Settings(PgBinaries binaries)
    {
        ArgumentNullException.ThrowIfNull(binaries);
        var library = Path.Combine(binaries.BinDirectory, "..", "lib", Library + ".so");
        return File.Exists(library) ? Lines : [];
    }

    /// <summary>Top-level statements only (what a client sent), up to 5000 distinct ones per instance.</summary>
    public static readonly IReadOnlyList<string> Lines =
    [
        $"shared_preload_libraries = '{Library}'",
        "pg_stat_statements.track = top",
        "pg_stat_statements.max = 5000",
    ];
}
