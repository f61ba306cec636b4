using System.Diagnostics;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Backups;

/// <summary>The outcome of checking one base backup against its manifest.</summary>
/// <param name="Detail">pg_verifybackup's (or tar's) own words: what failed, or that the backup verified.</param>
public sealed record BackupVerification(bool Passed, string Detail, TimeSpan Duration);

/// <summary>
/// Proves a base backup intact without starting a server: PostgreSQL 15's pg_verifybackup reads plain backups
/// only, so the archives are extracted into a scratch directory (always removed afterwards) and checked there
/// against <c>backup_manifest</c>: every file's size and CRC32C, and (through pg_waldump) that the WAL needed to
/// reach consistency is present and parses. A damaged backup is a result (<c>Passed = false</c>); only trouble
/// of this host (missing tools, an unusable scratch directory) throws.
/// </summary>
public sealed class BackupVerifier(ILogger logger, PgBinaries? binaries = null)
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromHours(6);

    public async Task<BackupVerification> VerifyAsync(string backupDirectory, string scratchRoot, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(backupDirectory);
        ArgumentException.ThrowIfNullOrEmpty(scratchRoot);
        var backup = Path.GetFullPath(backupDirectory);
        if (!Directory.Exists(backup)) throw new DirectoryNotFoundException($"Base backup '{backup}' does not exist.");
        var verifier = (binaries ?? PgBinaries.Shared).Tool("pg_verifybackup");
        var watch = Stopwatch.StartNew();

        var manifest = Path.Combine(backup, BackupArchives.ManifestFile);
        if (!File.Exists(manifest)) return Done(backup, false, $"'{backup}' has no {BackupArchives.ManifestFile}.", watch);
        if (BackupArchives.Find(backup, BackupArchives.BaseStem) is null) return Done(backup, false, $"'{backup}' has no base.tar archive.", watch);

        var scratch = Path.Combine(Path.GetFullPath(scratchRoot), $"verify-{Path.GetFileName(backup)}-{Guid.NewGuid():N}");
        UnixFile.CreateDirectory(scratch, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            try
            {
                await BackupArchives.ExtractBackupAsync(backup, scratch, asPostgres: false, ToolTimeout, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ProcessFailedException or InvalidDataException)
            {
                if (e.Message.Contains("No space left on device", StringComparison.Ordinal))
                {
                    throw new IOException($"Scratch directory '{scratchRoot}' ran out of space while extracting '{backup}'.", e);
                }
                return Done(backup, false, $"The archives could not be extracted: {e.Message}", watch);
            }
            var result = await ProcessRunner.RunAsync(
                new ProcessSpec(verifier, ["-m", manifest, scratch]) { Timeout = ToolTimeout }, ct).ConfigureAwait(false);
            var said = (result.StandardError + result.StandardOutput).Trim().Replace(scratch, "<scratch>", StringComparison.Ordinal);
            return Done(backup, result.Succeeded, said.Length > 0 ? said : $"pg_verifybackup exited with {result.ExitCode}", watch);
        }
        finally
        {
            try { Directory.Delete(scratch, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogError("Could not remove verification scratch directory {Scratch}: {Error}", scratch, e.Message);
            }
        }
    }

    private BackupVerification Done(string backup, bool passed, string detail, Stopwatch watch)
    {
        if (passed) logger.LogInformation("Base backup {Backup} verified in {Elapsed} ms", backup, watch.ElapsedMilliseconds);
        else logger.LogError("Base backup {Backup} failed verification: {Detail}", backup, detail);
        return new BackupVerification(passed, detail, watch.Elapsed);
    }
}
