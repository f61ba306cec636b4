using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Fleet;

/// <summary>
/// PostgreSQL servers are daemons (pg_ctl start), not children of the silo: a silo that dies without stopping them
/// leaves them running. The benchmark must not leave them behind, so after every stop it looks for live
/// postmasters under the data directory and shuts them down (SIGTERM, the "smart"/fast path; SIGKILL on timeout).
/// </summary>
public static class PostmasterSweep
{
    /// <summary>Stops every postmaster still running under <paramref name="dataDirectory"/>; returns how many there were.</summary>
    public static async Task<int> StopLeftoversAsync(string dataDirectory, TimeSpan timeout)
    {
        var pids = LivePostmasters(dataDirectory);
        foreach (var pid in pids) UnixSignals.Send(pid, UnixSignals.SigTerm);
        var deadline = DateTime.UtcNow + timeout;
        while (pids.Any(p => UnixSignals.IsRunning(p, "postgres")) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        foreach (var pid in pids.Where(p => UnixSignals.IsRunning(p, "postgres"))) UnixSignals.Send(pid, UnixSignals.SigKill);
        return pids.Count;
    }

    private static List<int> LivePostmasters(string dataDirectory)
    {
        if (!Directory.Exists(dataDirectory)) return [];
        var pids = new List<int>();
        foreach (var file in Directory.EnumerateFiles(dataDirectory, "postmaster.pid", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 6 }))
        {
            try
            {
                var first = File.ReadLines(file).FirstOrDefault();
                // A stale pid file may name a recycled pid: only a process that is a postgres server counts.
                if (int.TryParse(first, out var pid) && UnixSignals.IsRunning(pid, "postgres")) pids.Add(pid);
            }
            catch (IOException)
            {
                // Removed while we read it: the server just stopped.
            }
        }
        return pids;
    }
}
