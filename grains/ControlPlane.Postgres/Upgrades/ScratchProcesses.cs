using System.Globalization;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Upgrades;

/// <summary>
/// Every process still at work in a rehearsal's scratch directory: its servers (their working directory is their
/// data directory) and the tools a crashed control plane left running (pg_upgrade, which would go on starting
/// servers; pg_dump, pg_restore, psql and the runuser wrapping them, which name scratch files on their command line).
/// Found through /proc by working directory or command-line argument inside the root; Linux only.
/// </summary>
internal static class ScratchProcesses
{
    private static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(15);

    public static IReadOnlyList<InstanceProcess> Find(string root)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var found = new List<InstanceProcess>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId) continue;
            if (InstanceProcesses.Read(pid) is not { IsGone: false } process) continue;
            if (Inside(Cwd(pid), full) || Arguments(pid).Any(a => Inside(a, full) || a.Contains(full + "/", StringComparison.Ordinal))) found.Add(process);
        }
        return found;
    }

    /// <summary>SIGKILL to every such process, again until none is left (a pg_upgrade may fork between two scans); bounded.</summary>
    public static async Task KillAsync(string root, ILogger logger, CancellationToken ct)
    {
        var limit = DateTime.UtcNow + ExitWait;
        for (var victims = Find(root); victims.Count > 0; victims = Find(root))
        {
            if (DateTime.UtcNow >= limit)
                throw new TimeoutException($"{victims.Count} process(es) still work in '{root}' {ExitWait.TotalSeconds:0}s after SIGKILL: {string.Join(", ", victims.Select(v => v.Pid))}.");
            logger.LogWarning("Killing {Count} process(es) left in the upgrade scratch {Directory}: {Pids}", victims.Count, root, string.Join(", ", victims.Select(v => v.Pid)));
            foreach (var v in victims) InstanceProcesses.Signal(v.Pid, InstanceSignal.Kill);
            var wait = DateTime.UtcNow + TimeSpan.FromSeconds(2);
            while (!victims.All(InstanceProcesses.HasExited) && DateTime.UtcNow < wait) await Task.Delay(20, ct).ConfigureAwait(false);
        }
    }

    private static bool Inside(string? path, string root) =>
        path is not null && (path == root || path.StartsWith(root + "/", StringComparison.Ordinal));

    private static string? Cwd(int pid)
    {
        try { return new FileInfo($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cwd").LinkTarget; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static string[] Arguments(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }
}
