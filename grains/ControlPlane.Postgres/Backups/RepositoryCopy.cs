using ControlPlane.Postgres.Instances;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// Copies a finished backup into another repository so that it appears there whole or not at all: files go into a
/// temporary sibling directory, are flushed to disk, and the directory is renamed into place last.
/// </summary>
public static class RepositoryCopy
{
    public static async Task CopyDirectoryAsync(string source, string target, CancellationToken ct)
    {
        if (!Directory.Exists(source)) throw new DirectoryNotFoundException($"backup directory {source} does not exist.");
        var parent = Path.GetDirectoryName(Path.GetFullPath(target))!;
        Directory.CreateDirectory(parent);
        var staging = $"{target}.copy-{Environment.ProcessId}";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        try
        {
            foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
            {
                var destination = Path.Combine(staging, Path.GetRelativePath(source, file));
                Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                await using (var from = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true))
                await using (var to = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true))
                {
                    await from.CopyToAsync(to, ct);
                    to.Flush(flushToDisk: true);
                }
            }
            if (OsUser.IsRoot) await OsUser.GiveToPostgresAsync(staging, recursive: true, ct);
            if (Directory.Exists(target)) Directory.Delete(target, recursive: true);
            Directory.Move(staging, target);
        }
        catch
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
            throw;
        }
    }
}
