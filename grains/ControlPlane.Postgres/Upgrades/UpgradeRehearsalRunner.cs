using System.Diagnostics;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Upgrades;

/// <summary>
/// Rehearses a major upgrade on scratch instances only: the tier's backup is restored (the drill's restore path,
/// <see cref="RestoreRunner"/>) into a new instance of the tier's version, a target-version instance is initialised
/// beside it, and the data is carried over by the chosen method. The live tier is never connected to. Every phase
/// is reported to <c>onPhase</c> as it ends; the scratch directory stays until <see cref="DestroyAsync"/>.
/// </summary>
public sealed partial class UpgradeRehearsalRunner(ILogger logger)
{
    private const string TargetName = "upgrade-target";
    private const string SourceName = "upgrade-source";

    /// <summary>Creates the scratch root with its marker; a root that exists is refused (it belongs to another rehearsal).</summary>
    public static void CreateScratch(RehearsalScratch scratch)
    {
        ArgumentNullException.ThrowIfNull(scratch);
        if (Directory.Exists(scratch.Root)) throw new IOException($"scratch directory '{scratch.Root}' already exists.");
        UnixFile.CreateDirectory(scratch.Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(scratch.Root, RehearsalScratch.MarkerFile), $"upgrade rehearsal, {DateTimeOffset.UtcNow:O}\n");
        Directory.CreateDirectory(scratch.Work);
    }

    /// <summary>
    /// Stops both scratch instances at once (SIGKILL: they are thrown away), kills whatever else still works in the
    /// scratch (a pg_upgrade or pg_dump orphaned by a crash of the control plane) and deletes the scratch root.
    /// Refuses a directory without the marker; a missing root is already clean.
    /// </summary>
    public async Task DestroyAsync(RehearsalScratch scratch, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(scratch);
        if (!Directory.Exists(scratch.Root)) return;
        if (!File.Exists(Path.Combine(scratch.Root, RehearsalScratch.MarkerFile)))
            throw new InvalidOperationException($"'{scratch.Root}' was not created by an upgrade rehearsal (no {RehearsalScratch.MarkerFile}); refusing to delete it.");
        foreach (var data in new[] { scratch.SourceData, scratch.TargetData }.Where(d => File.Exists(Path.Combine(d, "PG_VERSION"))))
        {
            var driver = new LocalInstanceDriver(new LocalInstanceOptions("upgrade", Path.GetFileName(Path.GetDirectoryName(data))!, data, 1, "", null), logger);
            await driver.FenceAsync(ct).ConfigureAwait(false);
        }
        await ScratchProcesses.KillAsync(scratch.Root, logger, ct).ConfigureAwait(false);
        if (File.Exists(scratch.SocketsNote) && File.ReadAllText(scratch.SocketsNote).Trim() is { Length: > 0 } sockets
            && Path.GetFileName(sockets).StartsWith(RehearsalScratch.SocketsPrefix, StringComparison.Ordinal) && Directory.Exists(sockets))
        {
            Directory.Delete(sockets, recursive: true);
        }
        Directory.Delete(scratch.Root, recursive: true);
        logger.LogWarning("Removed upgrade rehearsal scratch {Directory}", scratch.Root);
    }

    /// <summary>Restores the backup into the scratch source and brings it up again with <paramref name="extraSettings"/> (wal_level = logical for a subscription).</summary>
    private async Task<ReplicaEndpoint> RestoreSourceAsync(UpgradeRehearsalRequest request, IReadOnlyList<string> extraSettings,
        Func<RehearsalPhase, Task> onPhase, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var restored = await new RestoreRunner(logger).RestoreAsync(request.Restore with { TargetDataDirectory = request.Scratch.SourceData }, null, ct).ConfigureAwait(false);
        var detail = $"backup restored to lsn {new Health.Lsn(restored.ReachedLsn)} on port {restored.Endpoint.Port}";
        if (extraSettings.Count > 0)
        {
            // The restore ran with the backed-up instance's settings; a restart applies the rehearsal's own on top.
            var driver = SourceDriver(request, restored.Endpoint.Port, extraSettings);
            await driver.StopAsync(StopMode.Fast, ct).ConfigureAwait(false);
            await driver.StartAsync(ct).ConfigureAwait(false);
            detail += $", restarted with {string.Join(", ", extraSettings)}";
        }
        await onPhase(new RehearsalPhase("restore", watch.Elapsed, detail)).ConfigureAwait(false);
        return restored.Endpoint;
    }

    private LocalInstanceDriver SourceDriver(UpgradeRehearsalRequest request, int port, IReadOnlyList<string> extraSettings) =>
        new(new LocalInstanceOptions(request.Restore.Credentials.Tier, SourceName, request.Scratch.SourceData, port, request.Restore.Credentials.PasswordFile, null)
        {
            ExtraSettings = extraSettings,
        }, logger);

    /// <summary>initdb of the target version with the tier's superuser password, started on a free port.</summary>
    private async Task<ReplicaEndpoint> InitTargetAsync(UpgradeRehearsalRequest request, Func<RehearsalPhase, Task> onPhase, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var credentials = request.Restore.Credentials;
        var port = FreePort.Pick();
        await TargetDriver(request, port).InitPrimaryAsync(ct).ConfigureAwait(false);
        var endpoint = credentials with { Name = TargetName, Host = "127.0.0.1", Port = port, DataDirectory = request.Scratch.TargetData };
        var version = await UpgradeSql.ServerVersionAsync(endpoint, ct).ConfigureAwait(false);
        await onPhase(new RehearsalPhase("target", watch.Elapsed, $"PostgreSQL {version} initialised from {request.Target.BinDirectory} on port {port}")).ConfigureAwait(false);
        return endpoint;
    }

    /// <summary>
    /// Roles (without passwords: the rehearsal logs in as the superuser only) and, per database, the database itself;
    /// extensions the target installation lacks are issues.
    /// </summary>
    private async Task<IReadOnlyList<string>> PrepareTargetAsync(UpgradeRehearsalRequest request, ReplicaEndpoint source, ReplicaEndpoint target,
        IReadOnlyList<string> databases, List<string> issues, CancellationToken ct)
    {
        var roles = Path.Combine(request.Scratch.Work, "roles.sql");
        await PgClientTool.RunCheckedAsync(request.ClientTools.Tool("pg_dumpall"), source, ["--roles-only", "--no-role-passwords", "-f", roles],
            asPostgres: false, request.Timeout, ct).ConfigureAwait(false);
        var applied = await PgClientTool.RunAsync(request.ClientTools.Tool("psql"), target, ["-X", "-q", "-d", "postgres", "-f", roles],
            asPostgres: false, request.Timeout, ct).ConfigureAwait(false);
        issues.AddRange(Errors(applied.StandardError, "roles").Where(e => !e.Contains("already exists", StringComparison.Ordinal)));

        var available = await UpgradeSql.AvailableExtensionsAsync(target, ct).ConfigureAwait(false);
        foreach (var database in databases)
        {
            await UpgradeSql.EnsureDatabaseAsync(target, database, ct).ConfigureAwait(false);
            foreach (var (name, version) in await UpgradeSql.ExtensionsAsync(source, database, ct).ConfigureAwait(false))
            {
                if (!available.Contains(name))
                    issues.Add($"extension {name} {version} (database {database}) is not available in the PostgreSQL {request.Target.Major} installation {request.Target.BinDirectory}");
            }
        }
        return databases;
    }

    /// <summary>
    /// Row counts per table of every database, on both sides; a difference is an issue. The rehearsal's own probe
    /// table is left out: the target's first write after the cutover went there, so it has one row more by design.
    /// </summary>
    private static async Task<IReadOnlyList<TableRows>> CompareCountsAsync(ReplicaEndpoint source, ReplicaEndpoint target, IReadOnlyList<string> databases,
        List<string> issues, Func<RehearsalPhase, Task> onPhase, CancellationToken ct) =>
        await CompareCountsAsync(await CountAllAsync(source, databases, ct).ConfigureAwait(false), target, databases, issues, onPhase, ct).ConfigureAwait(false);

    /// <summary>Row counts of every table of every database of <paramref name="endpoint"/>, per database.</summary>
    private static async Task<IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>>> CountAllAsync(ReplicaEndpoint endpoint, IReadOnlyList<string> databases, CancellationToken ct)
    {
        var counts = new Dictionary<string, IReadOnlyDictionary<string, long>>(StringComparer.Ordinal);
        foreach (var database in databases) counts[database] = await UpgradeSql.RowCountsAsync(endpoint, database, ct).ConfigureAwait(false);
        return counts;
    }

    /// <summary>As above, against counts of the source taken earlier (pg_upgrade: the source cannot run beside its upgraded copy).</summary>
    private static async Task<IReadOnlyList<TableRows>> CompareCountsAsync(IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> counted, ReplicaEndpoint target,
        IReadOnlyList<string> databases, List<string> issues, Func<RehearsalPhase, Task> onPhase, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var rows = new List<TableRows>();
        foreach (var database in databases)
        {
            var before = counted[database];
            var after = await UpgradeSql.RowCountsAsync(target, database, ct).ConfigureAwait(false);
            foreach (var table in before.Keys.Union(after.Keys).Where(t => t != "public." + UpgradeSql.ProbeTable).Order(StringComparer.Ordinal))
            {
                var row = new TableRows(database, table, before.GetValueOrDefault(table, -1), after.GetValueOrDefault(table, -1));
                rows.Add(row);
                if (row.Before != row.After)
                {
                    issues.Add(row.After < 0 ? $"table {database}.{table} is missing in the upgraded copy"
                        : row.Before < 0 ? $"table {database}.{table} exists only in the upgraded copy"
                        : $"table {database}.{table} has {row.Before} rows before and {row.After} after");
                }
            }
        }
        var equal = rows.Count(r => r.Before == r.After);
        await onPhase(new RehearsalPhase("counts", watch.Elapsed, $"{equal} of {rows.Count} tables have equal row counts")).ConfigureAwait(false);
        return rows;
    }

    /// <summary>Every table readable in every database, then the tier's own smoke queries in its database.</summary>
    private static async Task<IReadOnlyList<SmokeOutcome>> SmokeAsync(UpgradeRehearsalRequest request, ReplicaEndpoint target, IReadOnlyList<string> databases,
        Func<RehearsalPhase, Task> onPhase, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var results = new List<SmokeOutcome>();
        foreach (var database in databases)
        {
            results.Add(await UpgradeSql.SmokeAsync(target, database, UpgradeSql.EveryTableReadable, ct).ConfigureAwait(false));
        }
        foreach (var query in request.SmokeQueries)
        {
            results.Add(await UpgradeSql.SmokeAsync(target, target.Database, query, ct).ConfigureAwait(false));
        }
        await onPhase(new RehearsalPhase("smoke", watch.Elapsed, $"{results.Count(r => r.Passed)} of {results.Count} smoke queries passed")).ConfigureAwait(false);
        return results;
    }

    /// <summary>The error lines of a tool's stderr (pg_restore, psql), prefixed with what was being done.</summary>
    private static IEnumerable<string> Errors(string stderr, string doing) =>
        stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => l.Contains("ERROR:", StringComparison.Ordinal) || l.StartsWith("pg_restore: error:", StringComparison.Ordinal))
            .Select(l => $"{doing}: {PgClientTool.Tail(l)}");
}
