using System.Diagnostics;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ControlPlane.Bench.Backups;

/// <summary>
/// pgBackRest on the same primary: a full backup (lz4, process-max 1, fast checkpoint; WAL archived by
/// <c>archive_command = pgbackrest archive-push</c>), its <c>verify</c> command, and <c>restore --type=immediate
/// --target-action=promote</c> into a new directory started on a free port until <c>pg_is_in_recovery()</c> is false,
/// the point at which <see cref="ControlPlane.Postgres.Backups.RestoreRunner"/> returns. Each run gets a repository
/// of its own (stanza-create and a <c>check</c> that archiving works, untimed), so <c>verify</c>, which reads the
/// whole repository, checks one backup as ours does; the previous run's repository is removed once the new one
/// archives, never while the server might still push into it.
/// </summary>
public sealed class PgBackRestSide : IBackupSide
{
    // RestoreRunner polls every 500 ms too: the same granularity on both sides.
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan StepTimeout = TimeSpan.FromHours(1);
    private readonly BenchPrimary _primary;
    private readonly BenchWorkspace _workspace;
    private readonly PgBackRest _tool;
    private readonly string _socketDirectory;
    private readonly TextWriter _log;
    private string? _previousRepository;

    private PgBackRestSide(BenchPrimary primary, BenchWorkspace workspace, PgBackRest tool, string socketDirectory, string version, TextWriter log)
    {
        _primary = primary;
        _workspace = workspace;
        _tool = tool;
        _socketDirectory = socketDirectory;
        _log = log;
        Tool = version;
    }

    public string Tool { get; }
    public string Settings => "backup --type=full, compress-type=lz4, process-max=1, start-fast=y, WAL by archive-push";

    /// <summary>Restarts the primary with WAL archiving into pgBackRest and a unix socket for it.</summary>
    public static async Task<PgBackRestSide> SetUpAsync(BenchPrimary primary, BenchWorkspace workspace, string binary, TextWriter log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(workspace);
        ArgumentNullException.ThrowIfNull(log);
        await workspace.PostgresDirectoryAsync("pgbackrest", ct);
        var socket = await workspace.PostgresDirectoryAsync("socket", ct);
        var tool = new PgBackRest(binary, Path.Combine(workspace.Root, "pgbackrest", "pgbackrest.conf"), primary.PassFile);
        var version = await tool.VersionAsync(ct);
        await log.WriteLineAsync($"{version}: restarting the primary with archive_mode = on, archive_command = pgbackrest archive-push");
        await primary.RestartWithAsync(
        [
            "# Benchmark: WAL archiving into pgBackRest, and the unix socket it connects through.",
            "archive_mode = on",
            $"archive_command = '{tool.ArchiveCommand}'",
            $"unix_socket_directories = '{socket}'",
        ], ct);
        return new PgBackRestSide(primary, workspace, tool, socket, version, log);
    }

    public async Task<BackupRun> RunAsync(int run, int order, CancellationToken ct)
    {
        var figures = new RunFigures(run, order);
        LocalInstanceDriver? restored = null;
        try
        {
            var repository = await NewRepositoryAsync(run, ct);
            var watch = Stopwatch.StartNew();
            await _tool.RunAsync("backup", ["--type=full"], StepTimeout, ct);
            figures.BackupSeconds = watch.Elapsed.TotalSeconds;
            var backup = await _tool.LatestBackupAsync(ct);
            (figures.StoredBytes, figures.WalBytes) = StoredBytes(repository, backup);
            await _log.WriteLineAsync($"pgbackrest #{run}: backup {backup.Label} {figures.BackupSeconds:F2} s, {figures.StoredBytes / 1e6:F1} MB of which WAL {figures.WalBytes / 1e6:F1} MB ({backup.WalStart}..{backup.WalStop})");

            watch.Restart();
            var verify = await _tool.TryAsync("verify", ["--output=text"], StepTimeout, ct);
            figures.VerifySeconds = watch.Elapsed.TotalSeconds;
            figures.Verified = verify.Succeeded;
            await _log.WriteLineAsync($"pgbackrest #{run}: verify {figures.VerifySeconds:F2} s, {(verify.Succeeded ? "passed" : "FAILED")} {Oneline(verify.StandardOutput + verify.StandardError)}");

            var instance = await _workspace.PostgresDirectoryAsync(Path.Combine("restores", $"pgbackrest-{run}"), ct);
            restored = new LocalInstanceDriver(
                new LocalInstanceOptions(BenchPrimary.Tier, $"pgbackrest-{run}", Path.Combine(instance, "data"), FreePort.Pick(), _workspace.SuperuserPasswordFile, null),
                NullLogger.Instance);
            _workspace.Track(restored);
            watch.Restart();
            await _workspace.PostgresDirectoryAsync(Path.Combine("restores", $"pgbackrest-{run}", "data"), ct);
            await _tool.RunAsync("restore", [$"--pg1-path={restored.DataDirectory}", "--type=immediate", "--target-action=promote", $"--set={backup.Label}"], StepTimeout, ct);
            // The driver writes its own controlplane.conf (new port, no archiving) before it starts the server.
            await restored.StartAsync(ct);
            await WaitWritableAsync(restored, ct);
            figures.RestoreSeconds = watch.Elapsed.TotalSeconds;
            await _log.WriteLineAsync($"pgbackrest #{run}: restore to writable {figures.RestoreSeconds:F2} s");
            return figures.Done();
        }
        catch (Exception e) when (BackupsRun.IsToolFailure(e))
        {
            await _log.WriteLineAsync($"pgbackrest #{run} failed: {e.Message}");
            return figures.Failed(e);
        }
        finally
        {
            if (restored is not null)
            {
                try { await restored.StopAsync(StopMode.Immediate, CancellationToken.None); }
                catch (Exception e) when (e is ProcessFailedException or TimeoutException) { }
                TryDelete(restored.InstanceDirectory);
            }
        }
    }

    /// <summary>A fresh repository for this run: configuration pointed at it, stanza-create, and a check that WAL arrives there.</summary>
    private async Task<string> NewRepositoryAsync(int run, CancellationToken ct)
    {
        var repository = await _workspace.PostgresDirectoryAsync(Path.Combine("pgbackrest", $"repo-{run}"), ct);
        var logs = await _workspace.PostgresDirectoryAsync(Path.Combine("pgbackrest", "log"), ct);
        var locks = await _workspace.PostgresDirectoryAsync(Path.Combine("pgbackrest", "lock"), ct);
        await OsUser.WriteFileAsync(_tool.ConfigFile,
            PgBackRest.RenderConfig(repository, logs, locks, _primary.DataDirectory, _primary.Port, _socketDirectory),
            UnixFileMode.UserRead | UnixFileMode.UserWrite, forPostgres: true, ct);
        await _tool.RunAsync("stanza-create", [], TimeSpan.FromMinutes(5), ct);
        await _tool.RunAsync("check", [], TimeSpan.FromMinutes(5), ct);
        if (_previousRepository is not null) TryDelete(_previousRepository);
        _previousRepository = repository;
        return repository;
    }

    /// <summary>The backup set's directory plus the archived WAL segments it needs (what ours stores in pg_wal.tar).</summary>
    private static (long Stored, long Wal) StoredBytes(string repository, PgBackRestBackup backup)
    {
        var set = new DirectoryInfo(Path.Combine(repository, "backup", PgBackRest.Stanza, backup.Label));
        var archive = new DirectoryInfo(Path.Combine(repository, "archive", PgBackRest.Stanza));
        var wal = archive.EnumerateFiles("*", SearchOption.AllDirectories).Where(f =>
            f.Name.Length > 24 && f.Name[24] == '-'
            && string.CompareOrdinal(f.Name[..24], backup.WalStart) >= 0 && string.CompareOrdinal(f.Name[..24], backup.WalStop) <= 0);
        var walBytes = wal.Sum(f => f.Length);
        return (set.EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length) + walBytes, walBytes);
    }

    private static async Task WaitWritableAsync(LocalInstanceDriver instance, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(StepTimeout);
        while (true)
        {
            try
            {
                await using var connection = await BenchWorkspace.OpenAsync(instance.Endpoint, deadline.Token);
                await using var cmd = new NpgsqlCommand("SELECT pg_is_in_recovery()", connection);
                if (!(bool)(await cmd.ExecuteScalarAsync(deadline.Token))!) return;
            }
            catch (NpgsqlException)
            {
                // Not accepting connections yet, or gone: only the latter is final.
                if (!await instance.IsRunningAsync(deadline.Token))
                {
                    throw new InvalidOperationException($"The server restored by pgBackRest stopped during recovery. Log '{instance.LogFile}' ends with:\n{instance.LogTail()}");
                }
            }
            await Task.Delay(PollInterval, deadline.Token);
        }
    }

    private static string Oneline(string text) => string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static void TryDelete(string directory)
    {
        try { Directory.Delete(directory, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
