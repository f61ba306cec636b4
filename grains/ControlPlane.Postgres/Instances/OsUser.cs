using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Instances;

/// <summary>
/// Who runs PostgreSQL. PostgreSQL refuses to run as root, so when the control plane is root every server
/// binary runs as the <c>postgres</c> user through <c>runuser</c>, the instance's directories are given to that
/// user, and every ancestor of a data directory must be traversable by it. As an ordinary user all of this is
/// a no-op: the servers run as that user.
/// </summary>
public static class OsUser
{
    public const string PostgresUser = "postgres";
    public const string RunuserPath = "/usr/sbin/runuser";

    /// <summary>True when this process runs as root (Environment.UserName resolves the effective uid).</summary>
    public static bool IsRoot { get; } = Environment.UserName == "root";

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Gives <paramref name="path"/> (recursively) to the postgres user when root; no-op otherwise.</summary>
    public static async Task GiveToPostgresAsync(string path, bool recursive, CancellationToken ct)
    {
        if (!IsRoot) return;
        List<string> args = recursive ? ["-R"] : [];
        args.Add($"{PostgresUser}:{PostgresUser}");
        args.Add(path);
        await ProcessRunner.RunCheckedAsync(new ProcessSpec("chown", args) { Timeout = ToolTimeout }, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes every ancestor of <paramref name="directory"/> traversable by the postgres user (root only), with an
    /// ACL entry when setfacl exists (narrower than opening the directory to everyone), else <c>chmod o+x</c>.
    /// </summary>
    public static async Task EnsureAncestorsTraversableAsync(string directory, ILogger logger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(logger);
        if (!IsRoot) return;
        var setfacl = FindOnPath("setfacl");
        for (var dir = Path.GetDirectoryName(Path.GetFullPath(directory)); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if ((UnixFile.GetMode(dir) & UnixFileMode.OtherExecute) != 0) continue;
            var probe = await ProcessRunner.RunAsync(
                new ProcessSpec("test", ["-x", dir]) { AsPostgres = true, Timeout = ToolTimeout }, ct).ConfigureAwait(false);
            if (probe.Succeeded) continue;
            if (setfacl is not null)
            {
                await ProcessRunner.RunCheckedAsync(
                    new ProcessSpec(setfacl, ["-m", $"u:{PostgresUser}:x", dir]) { Timeout = ToolTimeout }, ct).ConfigureAwait(false);
                logger.LogInformation("Granted the postgres user traverse permission on {Directory} (setfacl u:postgres:x)", dir);
            }
            else
            {
                UnixFile.SetMode(dir, UnixFile.GetMode(dir) | UnixFileMode.OtherExecute);
                logger.LogInformation("Made {Directory} traversable for the postgres user (chmod o+x; setfacl not installed)", dir);
            }
        }
    }

    /// <summary>Writes a file atomically with <paramref name="mode"/>, owned by postgres when root and <paramref name="forPostgres"/>.</summary>
    public static async Task WriteFileAsync(string path, string content, UnixFileMode mode, bool forPostgres, CancellationToken ct)
    {
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N");
        var options = UnixFile.CreateNewOptions(mode);
        try
        {
            await using (var stream = new FileStream(temp, options))
            await using (var writer = new StreamWriter(stream))
            {
                await writer.WriteAsync(content.AsMemory(), ct).ConfigureAwait(false);
            }
            // UnixCreateMode is filtered by the umask; set it exactly.
            UnixFile.SetMode(temp, mode);
            if (forPostgres) await GiveToPostgresAsync(temp, recursive: false, ct).ConfigureAwait(false);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>The full path of <paramref name="tool"/> on PATH, or null.</summary>
    public static string? FindOnPath(string tool)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
