using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ControlPlane.Bench.Backups;

/// <summary>
/// The benchmark's temporary directory and everything started in it. Disposal stops every instance it was told
/// about (immediate: nothing here is worth a clean shutdown) and removes the directory, whether the run finished,
/// failed or was interrupted. Paths are checked for characters that would need quoting, because some of them end up
/// inside an <c>archive_command</c> run by a shell.
/// </summary>
public sealed class BenchWorkspace : IAsyncDisposable
{
    private readonly List<LocalInstanceDriver> _instances = [];
    private readonly bool _keep;

    private BenchWorkspace(string root, bool keep)
    {
        Root = root;
        _keep = keep;
    }

    public string Root { get; }
    public string SuperuserPasswordFile => Path.Combine(Root, "secrets", "bench.superuser");
    public string ReplicatorPasswordFile => Path.Combine(Root, "secrets", "bench.replicator");

    /// <summary>A new directory <c>cp-bench-backups-*</c> under <paramref name="parent"/> (default: the system temp directory), with fresh passwords.</summary>
    public static async Task<BenchWorkspace> CreateAsync(string? parent, bool keep, CancellationToken ct)
    {
        var root = parent is null
            ? Directory.CreateTempSubdirectory("cp-bench-backups-").FullName
            : Directory.CreateDirectory(Path.Combine(Path.GetFullPath(parent), $"cp-bench-backups-{Guid.NewGuid():N}")).FullName;
        var workspace = new BenchWorkspace(root, keep);
        try
        {
            if (!IsPlainPath(root))
            {
                throw new ArgumentException($"Work directory '{root}' has characters other than letters, digits, '/', '.', '_' and '-'; choose a plainer --work-dir.", nameof(parent));
            }
            Directory.CreateDirectory(Path.Combine(root, "secrets"));
            await SecretFile.EnsureAsync(workspace.SuperuserPasswordFile, ct);
            await SecretFile.EnsureAsync(workspace.ReplicatorPasswordFile, ct);
            await OsUser.EnsureAncestorsTraversableAsync(Path.Combine(root, "x"), NullLogger.Instance, ct);
            return workspace;
        }
        catch
        {
            await workspace.DisposeAsync();
            throw;
        }
    }

    /// <summary>A directory under the root owned by the postgres user (when root), 0700.</summary>
    public async Task<string> PostgresDirectoryAsync(string relative, CancellationToken ct)
    {
        var path = Path.Combine(Root, relative);
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("The backups benchmark runs PostgreSQL locally and needs a Unix host.");
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await OsUser.GiveToPostgresAsync(path, recursive: false, ct);
        return path;
    }

    /// <summary>Remembers an instance so disposal stops it.</summary>
    public void Track(LocalInstanceDriver instance) => _instances.Add(instance);

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in _instances)
        {
            try { await instance.StopAsync(StopMode.Immediate, CancellationToken.None); }
            catch (Exception e) when (e is ProcessFailedException or TimeoutException or IOException) { }
        }
        if (_keep) return;
        try { Directory.Delete(Root, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>An unpooled connection as the endpoint's superuser.</summary>
    public static async Task<NpgsqlConnection> OpenAsync(ReplicaEndpoint endpoint, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = endpoint.Host,
            Port = endpoint.Port,
            Database = endpoint.Database,
            Username = endpoint.User,
            Password = SecretFile.Read(endpoint.PasswordFile),
            Pooling = false,
            Timeout = 10,
            ApplicationName = "bench-backups",
        }.ConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static bool IsPlainPath(string path) => path.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-');
}
