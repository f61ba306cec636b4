using System.Globalization;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Backups;

/// <summary>
/// A pg_basebackup left running by a control plane that crashed mid-backup. The pid file in the <c>.partial</c>
/// directory names the process the runner started: pg_basebackup itself, or (as root) the runuser wrapping it,
/// whose command line carries pg_basebackup's. A pid is trusted only when that command line is a pg_basebackup
/// into this very directory (pids are recycled); then it and its children get SIGKILL and are waited for, so
/// nothing writes into the directory while it is removed.
/// </summary>
internal static class OrphanedBackup
{
    private static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(10);

    public static async Task KillAsync(string partialDirectory, ILogger logger, CancellationToken ct)
    {
        var pidFile = Path.Combine(partialDirectory, BaseBackupRunner.PidFileName);
        if (!File.Exists(pidFile)) return;
        if (!int.TryParse((await File.ReadAllTextAsync(pidFile, ct).ConfigureAwait(false)).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            logger.LogWarning("Ignoring the unreadable pid file {PidFile}", pidFile);
            return;
        }
        if (!IsBackupInto(pid, partialDirectory)) return;

        var victims = new[] { pid }.Concat(DescendantsOf(pid)).Select(InstanceProcesses.Read).OfType<InstanceProcess>().ToList();
        logger.LogWarning("Killing orphaned pg_basebackup (pids {Pids}) writing {Directory}", string.Join(", ", victims.Select(v => v.Pid)), partialDirectory);
        // Descendants first (pg_basebackup forks a WAL streamer): a runuser killed first would leave them running on.
        foreach (var v in victims.AsEnumerable().Reverse()) InstanceProcesses.Signal(v.Pid, InstanceSignal.Kill);
        var limit = DateTime.UtcNow + ExitWait;
        while (!victims.All(InstanceProcesses.HasExited))
        {
            if (DateTime.UtcNow >= limit)
            {
                throw new TimeoutException($"Orphaned pg_basebackup (pid {pid.ToString(CultureInfo.InvariantCulture)}) writing '{partialDirectory}' still runs {ExitWait.TotalSeconds:0}s after SIGKILL.");
            }
            await Task.Delay(20, ct).ConfigureAwait(false);
        }
    }

    /// <summary>True when <paramref name="pid"/> runs pg_basebackup with a target inside <paramref name="partialDirectory"/>.</summary>
    internal static bool IsBackupInto(int pid, string partialDirectory)
    {
        string[] args;
        try
        {
            args = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").Split('\0');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        var target = Path.Combine(Path.GetFullPath(partialDirectory), BaseBackupRunner.WorkDirectoryName);
        return args.Any(a => Path.GetFileName(a) == "pg_basebackup") && args.Contains(target, StringComparer.Ordinal);
    }

    /// <summary>Children, grandchildren, ... of <paramref name="root"/>, parents before their children.</summary>
    private static List<int> DescendantsOf(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
                && InstanceProcesses.Read(pid) is { } p)
            {
                parents[pid] = p.ParentPid;
            }
        }
        var found = new List<int>();
        var frontier = new Queue<int>([root]);
        while (frontier.TryDequeue(out var parent))
        {
            foreach (var (child, _) in parents.Where(kv => kv.Value == parent && kv.Key != root && !found.Contains(kv.Key)))
            {
                found.Add(child);
                frontier.Enqueue(child);
            }
        }
        return found;
    }
}
