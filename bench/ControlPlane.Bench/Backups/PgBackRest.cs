using System.Globalization;
using System.Text.Json;
using ControlPlane.Postgres.Instances;

namespace ControlPlane.Bench.Backups;

/// <summary>One backup as <c>pgbackrest info --output=json</c> describes it.</summary>
/// <param name="WalStart">First WAL segment the backup needs (24 hex digits).</param>
/// <param name="WalStop">Last one.</param>
public sealed record PgBackRestBackup(string Label, string WalStart, string WalStop);

/// <summary>
/// The pgBackRest command line for one stanza whose whole configuration (repository, logs, locks) lives in the
/// benchmark's work directory; it runs as the postgres user when we are root, like the server whose files it reads
/// and writes. It reaches the server through a unix socket with the superuser's password from a libpq password file
/// (<c>PGPASSFILE</c>), never from its command line.
/// </summary>
public sealed class PgBackRest(string binary, string configFile, string passFile)
{
    public const string Stanza = "bench";

    public string Binary => binary;
    public string ConfigFile => configFile;

    /// <summary>The <c>archive_command</c> that pushes into this stanza (paths were checked to need no quoting).</summary>
    public string ArchiveCommand => $"{binary} --config={configFile} --stanza={Stanza} archive-push %p";

    /// <summary>pgBackRest on PATH, installed with apt-get first when missing and we are root; null (and why) when it cannot be had.</summary>
    public static async Task<(string? Binary, string? Why)> LocateOrInstallAsync(TextWriter log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(log);
        if (OsUser.FindOnPath("pgbackrest") is { } found) return (found, null);
        if (!OsUser.IsRoot)
        {
            return (null, "pgbackrest is not installed and this is not root; install it (apt-get install pgbackrest) to compare against it");
        }
        await log.WriteLineAsync("pgbackrest is not installed; apt-get install -y pgbackrest");
        var env = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        var install = new ProcessSpec("apt-get", ["install", "-y", "--no-install-recommends", "pgbackrest"]) { Environment = env, Timeout = TimeSpan.FromMinutes(10) };
        var result = await ProcessRunner.RunAsync(install, ct);
        if (!result.Succeeded && result.StandardError.Contains("Unable to locate package", StringComparison.Ordinal))
        {
            // A machine whose package lists were never fetched.
            await ProcessRunner.RunAsync(new ProcessSpec("apt-get", ["update"]) { Environment = env, Timeout = TimeSpan.FromMinutes(10) }, ct);
            result = await ProcessRunner.RunAsync(install, ct);
        }
        if (OsUser.FindOnPath("pgbackrest") is { } installed) return (installed, null);
        return (null, $"apt-get install pgbackrest exited with {result.ExitCode}: {result.StandardError.Trim().Split('\n').LastOrDefault()}");
    }

    /// <summary>The configuration file's text: one repository, lz4, one process, fast checkpoint, everything under the work directory.</summary>
    public static string RenderConfig(string repository, string logPath, string lockPath, string dataDirectory, int port, string socketDirectory) =>
        string.Join('\n',
            "[global]",
            $"repo1-path={repository}",
            // Far above the runs of one benchmark: nothing is expired by a backup, so expiry is not in its time.
            "repo1-retention-full=1000",
            $"log-path={logPath}",
            $"lock-path={lockPath}",
            "log-level-console=warn",
            "log-level-file=info",
            "compress-type=lz4",
            "process-max=1",
            "start-fast=y",
            "",
            $"[{Stanza}]",
            $"pg1-path={dataDirectory}",
            $"pg1-port={port.ToString(CultureInfo.InvariantCulture)}",
            $"pg1-socket-path={socketDirectory}",
            "pg1-user=postgres",
            "");

    public async Task<string> VersionAsync(CancellationToken ct) =>
        (await ProcessRunner.RunCheckedAsync(new ProcessSpec(binary, ["version"]) { Timeout = TimeSpan.FromSeconds(30) }, ct)).StandardOutput.Trim();

    /// <summary>Runs <paramref name="command"/> for the stanza; throws <see cref="ProcessFailedException"/> when it fails.</summary>
    public Task<ProcessResult> RunAsync(string command, IReadOnlyList<string> options, TimeSpan timeout, CancellationToken ct) =>
        ProcessRunner.RunCheckedAsync(Spec(command, options, timeout), ct);

    /// <summary>Runs <paramref name="command"/> and returns how it ended, failure included.</summary>
    public Task<ProcessResult> TryAsync(string command, IReadOnlyList<string> options, TimeSpan timeout, CancellationToken ct) =>
        ProcessRunner.RunAsync(Spec(command, options, timeout), ct);

    /// <summary>The newest backup of the stanza.</summary>
    public async Task<PgBackRestBackup> LatestBackupAsync(CancellationToken ct)
    {
        var info = await RunAsync("info", ["--output=json"], TimeSpan.FromMinutes(2), ct);
        return ParseLatest(info.StandardOutput);
    }

    /// <summary>The last backup listed in <c>info --output=json</c> (pgBackRest lists them oldest first).</summary>
    public static PgBackRestBackup ParseLatest(string infoJson)
    {
        using var doc = JsonDocument.Parse(infoJson);
        var stanza = doc.RootElement.EnumerateArray().FirstOrDefault(s => s.GetProperty("name").GetString() == Stanza);
        if (stanza.ValueKind != JsonValueKind.Object || !stanza.TryGetProperty("backup", out var backups) || backups.GetArrayLength() == 0)
        {
            throw new InvalidOperationException($"pgbackrest info lists no backup of stanza '{Stanza}'.");
        }
        var last = backups[backups.GetArrayLength() - 1];
        var archive = last.GetProperty("archive");
        return new PgBackRestBackup(last.GetProperty("label").GetString()!, archive.GetProperty("start").GetString()!, archive.GetProperty("stop").GetString()!);
    }

    private ProcessSpec Spec(string command, IReadOnlyList<string> options, TimeSpan timeout) =>
        new(binary, [$"--config={configFile}", $"--stanza={Stanza}", .. options, command])
        {
            AsPostgres = true,
            Environment = new Dictionary<string, string> { ["PGPASSFILE"] = passFile },
            Timeout = timeout,
        };
}
