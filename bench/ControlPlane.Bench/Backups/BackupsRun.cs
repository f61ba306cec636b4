using System.Text.Json;
using ControlPlane.Bench.Common;
using ControlPlane.Postgres.Backups;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Bench.Backups;

/// <summary>What the <c>backups</c> benchmark runs.</summary>
/// <param name="WorkDirectory">Parent of the temporary directory (null: the system's temp directory).</param>
public sealed record BackupsSettings(int Scale, int Repeat, string? WorkDirectory, bool Keep);

/// <summary>
/// Ours against pgBackRest, in one run, on one pgbench database: set up the primary, then <c>Repeat</c> rounds of one
/// run per tool, the order swapped every round (ours first in odd rounds) so warm caches and the machine's drift
/// fall on both. A tool failing a run is recorded as such and the next run goes on; only an interruption stops the
/// rounds. The work directory goes away at the end in every case.
/// </summary>
public static class BackupsRun
{
    public static async Task<BackupsResult> RunAsync(BackupsSettings settings, TextWriter log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(log);
        var loadBefore = MachineInfo.LoadAverage();
        var (pgBackRestBinary, pgBackRestMissing) = await PgBackRest.LocateOrInstallAsync(log, ct);
        if (pgBackRestMissing is not null) await log.WriteLineAsync($"pgBackRest side skipped: {pgBackRestMissing}");

        await using var workspace = await BenchWorkspace.CreateAsync(settings.WorkDirectory, settings.Keep, ct);
        await log.WriteLineAsync($"work directory {workspace.Root}{(settings.Keep ? " (kept afterwards)" : "")}");
        var primary = await BenchPrimary.CreateAsync(workspace, settings.Scale, log, ct);
        var size = await primary.SizeAsync(ct);
        var version = await primary.ServerVersionAsync(ct);
        await log.WriteLineAsync($"database {size.DatabaseBytes / 1e6:F1} MB, cluster {size.ClusterBytes / 1e6:F1} MB");

        var sides = new List<IBackupSide> { new ControlPlaneBackupSide(primary, workspace, log) };
        if (pgBackRestBinary is not null) sides.Add(await PgBackRestSide.SetUpAsync(primary, workspace, pgBackRestBinary, log, ct));
        var runs = sides.ToDictionary(s => s.Tool, _ => new List<BackupRun>());
        for (var round = 1; round <= settings.Repeat; round++)
        {
            var order = round % 2 == 1 ? sides : Enumerable.Reverse(sides).ToList();
            for (var i = 0; i < order.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                await log.WriteLineAsync($"round {round}/{settings.Repeat}: {order[i].Tool}");
                runs[order[i].Tool].Add(await order[i].RunAsync(round, i, ct));
            }
        }

        var tools = sides.Select(s => ToolSummary.Of(s.Tool, s.Settings, size.DatabaseBytes, runs[s.Tool])).ToList();
        if (pgBackRestMissing is not null) tools.Add(ToolSummary.NotRun("pgBackRest", pgBackRestMissing));
        return new BackupsResult(MachineInfo.Capture(), loadBefore, MachineInfo.LoadAverage(), version, settings.Scale, settings.Repeat, size,
            tools, runs.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<BackupRun>)kv.Value));
    }

    /// <summary>A tool or the server it started failed: a result for that run, not a reason to stop the benchmark.</summary>
    public static bool IsToolFailure(Exception e) =>
        e is ProcessFailedException or RestoreFailedException or TimeoutException or IOException or InvalidOperationException
            or NpgsqlException or JsonException or KeyNotFoundException;
}
