using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// Creates a tier's directories in a repository. The repository root must exist already: it stands for a mounted
/// volume or another region, and a missing mount must fail loudly rather than fill the local disk. Directories
/// are 0700 and, when the control plane is root, owned by postgres: pg_basebackup, pg_receivewal and a restored
/// server's restore_command all run as that user.
/// </summary>
public static class RepositoryDirectories
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static async Task EnsureAsync(TierRepository repository, ILogger logger, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var root = Path.GetFullPath(repository.Root);
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"Backup repository '{root}' does not exist; create or mount it first.");
        }
        try
        {
            foreach (var dir in new[] { Path.Combine(root, repository.Environment), repository.TierDirectory, repository.BaseDirectory, repository.WalDirectory })
            {
                if (Directory.Exists(dir)) continue;
                UnixFile.CreateDirectory(dir, OwnerOnly);
                await OsUser.GiveToPostgresAsync(dir, recursive: false, ct).ConfigureAwait(false);
                logger.LogInformation("Created backup repository directory {Directory}", dir);
            }
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"Backup repository '{root}' is not writable: {e.Message}", e);
        }
        await OsUser.EnsureAncestorsTraversableAsync(repository.BaseDirectory, logger, ct).ConfigureAwait(false);
        foreach (var dir in new[] { repository.BaseDirectory, repository.WalDirectory })
        {
            var probe = await ProcessRunner.RunAsync(
                new ProcessSpec("test", ["-w", dir, "-a", "-x", dir]) { AsPostgres = true, Timeout = TimeSpan.FromSeconds(30) }, ct).ConfigureAwait(false);
            if (!probe.Succeeded)
            {
                throw new IOException($"Backup repository directory '{dir}' is not writable by {(OsUser.IsRoot ? "the postgres user" : Environment.UserName)}.");
            }
        }
    }
}
