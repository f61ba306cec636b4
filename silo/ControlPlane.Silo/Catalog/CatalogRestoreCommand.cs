using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using ControlPlane.Silo.Hosting;
using Microsoft.Extensions.Logging.Abstractions;

namespace ControlPlane.Silo.Catalog;

/// <summary>
/// <c>ControlPlane.Silo catalog-restore</c>: restores the embedded catalog of a data directory from its repository,
/// offline. Offline because the silo that would serve a gRPC restore needs the very catalog being replaced (Orleans
/// membership, grain state, tokens), and because a restore rolls the control plane's memory back: it must be a
/// person's decision, never something a silo does on its own when it finds a data directory missing (an unmounted
/// disk looks the same). Nothing is deleted: the catalog directory found is moved aside, and a failed restore
/// leaves the old one in place.
/// </summary>
internal static class CatalogRestoreCommand
{
    public const string Verb = "catalog-restore";

    private static readonly IReadOnlyDictionary<string, string> Switches = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--data-dir"] = "ControlPlane:DataDirectory",
        ["--repository"] = "ControlPlane:Catalog:Backups:Repository",
        ["--cluster-id"] = "ControlPlane:Cluster:ClusterId",
        ["--target"] = "Restore:Target",
        ["--backup"] = "Restore:Backup",
    };

    public const string Usage = """
        Restores the embedded catalog of a data directory from its backups (the silo must be stopped).

        Usage: dotnet run --project silo/ControlPlane.Silo -- catalog-restore --data-dir DIR [options]

          --data-dir DIR       the silo's data directory (default ./.controlplane)
          --target T           latest (default: every archived WAL byte), immediate (the backup's end),
                               or a time such as 2026-12-06T14:05:00Z
          --backup ID          the base backup to start from (default: the newest that can reach the target)
          --repository DIR     the catalog repository's root (default ControlPlane:Catalog:Backups:Repository,
                               else DIR/catalog-backups)
          --cluster-id ID      the cluster whose catalog it is (default ControlPlane:Cluster:ClusterId, controlplane)

        The catalog directory found (DIR/catalog) is moved to DIR/catalog.damaged-<time>, never deleted.
        A catalog standby named in DIR/catalog.json must be stopped too; its data directory is moved to
        <its directory>.diverged-<time>, and its silo's next start rebuilds it from the restored catalog.
        Exit codes: 0 restored, 1 the restore failed, 2 bad arguments or refused (nothing changed).
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken ct)
    {
        if (args.Contains("--help")) { await output.WriteLineAsync(Usage); return 0; }
        var unknown = args.Where(a => a.StartsWith("--", StringComparison.Ordinal)).Select(a => a.Split('=', 2)[0]).Where(a => !Switches.ContainsKey(a)).ToList();
        if (unknown.Count > 0) return await FailAsync(error, $"unknown option {string.Join(", ", unknown)}; see catalog-restore --help.");
        var config = new ConfigurationBuilder().AddJsonFile("appsettings.json", optional: true).AddEnvironmentVariables()
            .AddCommandLine(args, Switches.ToDictionary(kv => kv.Key, kv => kv.Value)).Build();
        var options = config.GetSection(ControlPlaneOptions.Section).Get<ControlPlaneOptions>() ?? new ControlPlaneOptions();
        var target = CatalogRestorePlanner.ParseTarget(config["Restore:Target"] ?? "latest", out var targetError);
        if (target is null) return await FailAsync(error, targetError!);

        var data = Path.GetFullPath(options.DataDirectory);
        if (!Directory.Exists(data)) return await FailAsync(error, $"--data-dir '{data}' does not exist.");
        using var held = CatalogLock.TryAcquire(data, out var holder);
        if (held is null)
            return await FailAsync(error, $"a silo (process {holder}) runs the catalog of '{data}' (it holds {CatalogLock.FileName}); a restore never replaces a running catalog. Stop the silo first.");
        var refusal = await CheckOfflineAsync(data, ct);
        if (refusal.Message is not null) return await FailAsync(error, refusal.Message);
        var standbys = (await CatalogManifest.ReadAsync(Path.Combine(data, CatalogInstance.ManifestFile), ct))?.Standbys ?? [];
        if (await CheckStandbysOfflineAsync(standbys, Path.Combine(data, "secrets", "catalog.superuser"), ct) is { } running) return await FailAsync(error, running);
        var repository = new CatalogBackupRepository(options.Catalog.Backups.RepositoryRoot(data), options.Cluster.ClusterId);
        var plan = CatalogRestorePlanner.Choose(repository.List(), config["Restore:Backup"], target, DateTimeOffset.UtcNow);
        if (plan.Backup is not { } backup) return await FailAsync(error, plan.Refusal!);

        using var loggers = LoggerFactory.Create(l => l.AddSimpleConsole(c => c.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        var logger = loggers.CreateLogger("ControlPlane.CatalogRestore");
        var stamp = DateTimeOffset.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var staging = Path.Combine(data, $"catalog.restoring-{stamp}", "data");
        var superuser = Path.Combine(data, "secrets", "catalog.superuser");
        await output.WriteLineAsync($"Restoring the catalog of {data} from backup {backup.Id} (complete at {backup.FinishedAt:u}) to {config["Restore:Target"] ?? "latest"}, WAL from {repository.Repository.WalDirectory}");
        RestoredInstance restored;
        try
        {
            restored = await new RestoreRunner(logger).RestoreAsync(
                new RestoreRequest(backup.Directory, repository.Repository.WalDirectory, staging, refusal.Port,
                    new ReplicaEndpoint("catalog", "catalog", "127.0.0.1", refusal.Port, "postgres", "postgres", superuser, staging), target)
                { Timeout = TimeSpan.FromMinutes(30) },
                progress: null, ct);
            await Driver(staging, refusal.Port, superuser, logger).StopAsync(StopMode.Fast, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await error.WriteLineAsync($"error: the restore failed; the catalog directory was not touched. The attempt stays in {Path.GetDirectoryName(staging)} for its log.\n{ex.Message}");
            return 1;
        }

        // The standbys first: one left in place would stream from the restored catalog with the history the restore
        // abandoned (or, promoted before, start as a second primary). Moved aside, never deleted; rebuilt at its start.
        var rebuilt = SetStandbysAside(standbys, stamp);
        var live = Path.Combine(data, "catalog");
        string? aside = null;
        if (Directory.Exists(live))
        {
            aside = Path.Combine(data, $"catalog.damaged-{stamp}");
            Directory.Move(live, aside);
        }
        Directory.Move(Path.GetDirectoryName(staging)!, live);
        File.Delete(Path.Combine(live, RestoreRunner.MarkerFile));
        var manifest = await CatalogManifest.UpdateAsync(Path.Combine(data, CatalogInstance.ManifestFile), m => CatalogRestorePlanner.AfterRestore(m, DateTimeOffset.UtcNow), ct);
        await output.WriteLineAsync(
            $"Restored: timeline {restored.Timeline}, replayed up to {new Lsn(restored.ReachedLsn)}, in {restored.Duration.TotalSeconds:0.0} s."
            + (aside is null ? "" : $" The previous catalog directory is kept in {aside}.")
            + $" The catalog's primary is {manifest.PrimaryName}."
            + string.Concat(rebuilt.Select(r => $" The catalog standby {r.Name}'s data directory was moved to {r.Aside}; its silo's next start rebuilds it from the restored catalog."))
            + " Start the silo: it reconciles every tier's term upward from the fleet before deciding anything.");
        return 0;
    }

    /// <summary>The catalog's port (remembered in catalog.json), or why a restore must not run now.</summary>
    private static async Task<(int Port, string? Message)> CheckOfflineAsync(string data, CancellationToken ct)
    {
        var manifest = Path.Combine(data, "catalog.json");
        if (!File.Exists(manifest) || !File.Exists(Path.Combine(data, "secrets", "catalog.superuser")))
            return (0, $"--data-dir '{data}' holds no embedded catalog (expected catalog.json and secrets/catalog.superuser there).");
        int port;
        try
        {
            port = JsonDocument.Parse(await File.ReadAllTextAsync(manifest, ct)).RootElement.GetProperty("Port").GetInt32();
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return (0, $"'{manifest}' is not readable ({ex.Message}); expected {{\"Port\": N}}.");
        }
        var driver = Driver(Path.Combine(data, "catalog", "data"), port, Path.Combine(data, "secrets", "catalog.superuser"), NullLogger.Instance);
        if (driver.PostmasterExists())
            return (port, $"the catalog in '{driver.DataDirectory}' is running (postmaster pid {driver.PostmasterPid()}); a restore never replaces a running catalog. Stop its silo first.");
        return await ListensAsync(port, ct)
            ? (port, $"something listens on the catalog's port 127.0.0.1:{port}; a restore never replaces a running catalog. Stop its silo first.")
            : (port, null);
    }

    /// <summary>Why a restore must not run while a standby of the catalog runs, or null: every standby is stopped.</summary>
    private static async Task<string?> CheckStandbysOfflineAsync(IReadOnlyList<CatalogMember> standbys, string superuser, CancellationToken ct)
    {
        foreach (var standby in standbys)
        {
            var driver = new LocalInstanceDriver(new LocalInstanceOptions("catalog", standby.Name, standby.DataDirectory, standby.Port, superuser, ReplicatorPasswordFile: null), NullLogger.Instance);
            if (driver.PostmasterExists())
            {
                return $"the catalog standby {standby.Name} in '{driver.DataDirectory}' is running (postmaster pid {driver.PostmasterPid()}); "
                    + "it would keep the history a restore abandons (or, promoted, stay a second primary). Stop its silo first.";
            }
            if (await ListensAsync(standby.Port, ct))
                return $"something listens on the catalog standby {standby.Name}'s port 127.0.0.1:{standby.Port}; a restore never leaves a catalog instance running. Stop its silo first.";
        }
        return null;
    }

    /// <summary>Moves each standby's data directory to <c>&lt;dir&gt;.diverged-&lt;stamp&gt;</c>; its next start creates it anew.</summary>
    private static List<(string Name, string Aside)> SetStandbysAside(IReadOnlyList<CatalogMember> standbys, string stamp)
    {
        var moved = new List<(string, string)>();
        foreach (var standby in standbys.Where(s => Directory.Exists(s.DataDirectory)))
        {
            var aside = Path.TrimEndingDirectorySeparator(Path.GetFullPath(standby.DataDirectory)) + $".diverged-{stamp}";
            Directory.Move(standby.DataDirectory, aside);
            moved.Add((standby.Name, aside));
        }
        return moved;
    }

    private static async Task<bool> ListensAsync(int port, CancellationToken ct)
    {
        using var probe = new TcpClient();
        try
        {
            await probe.ConnectAsync("127.0.0.1", port, ct).AsTask().WaitAsync(TimeSpan.FromSeconds(2), ct);
            return true;
        }
        catch (Exception ex) when (ex is SocketException or TimeoutException)
        {
            return false;
        }
    }

    private static LocalInstanceDriver Driver(string data, int port, string superuser, ILogger logger) =>
        new(new LocalInstanceOptions("catalog", "catalog", data, port, superuser, ReplicatorPasswordFile: null), logger);

    private static async Task<int> FailAsync(TextWriter error, string message)
    {
        await error.WriteLineAsync($"error: {message}");
        return 2;
    }
}
