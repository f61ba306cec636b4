using ControlPlane.Postgres.Monitoring;

namespace ControlPlane.Grains.Monitoring;

/// <summary>
/// Turns the sessions of a lock sample into chains: one per root blocker (a session others wait on that waits on
/// nobody), with everyone behind it depth-first. A cycle (a deadlock before the detector breaks it) has no root;
/// its sessions form a chain under the lowest pid.
/// </summary>
public static class LockChains
{
    public static IReadOnlyList<LockChain> Build(IReadOnlyList<LockSession> sessions)
    {
        ArgumentNullException.ThrowIfNull(sessions);
        var byPid = sessions.ToDictionary(s => s.Pid);
        var waiters = sessions.SelectMany(s => s.BlockedBy.Select(b => (Blocker: b, Waiter: s.Pid)))
            .ToLookup(e => e.Blocker, e => e.Waiter);
        var placed = new HashSet<int>();
        var chains = new List<LockChain>();
        var roots = sessions.Where(s => s.BlockedBy.Count == 0 && waiters[s.Pid].Any()).Select(s => s.Pid)
            .Concat(sessions.SelectMany(s => s.BlockedBy).Where(b => !byPid.ContainsKey(b))).Distinct().Order().ToList();
        foreach (var root in roots.Concat(sessions.Where(s => s.BlockedBy.Count > 0).Select(s => s.Pid).Order()))
        {
            if (placed.Contains(root)) continue;
            var chain = new List<LockedSession>();
            Walk(root, 0, byPid, waiters, placed, chain);
            if (chain.Count > 1) chains.Add(new LockChain(root, chain));
        }
        return chains;
    }

    private static void Walk(int pid, int depth, Dictionary<int, LockSession> byPid, ILookup<int, int> waiters, HashSet<int> placed, List<LockedSession> chain)
    {
        if (!placed.Add(pid)) return;
        chain.Add(byPid.TryGetValue(pid, out var s)
            ? new LockedSession(s.Pid, s.User, s.Database, s.ApplicationName, s.State, s.TransactionAgeSeconds, s.StateAgeSeconds, s.Query, s.BlockedBy, s.Locks, depth)
            : new LockedSession(pid, "", "", "", "gone", null, null, "", [], [], depth));
        foreach (var waiter in waiters[pid].Order()) Walk(waiter, depth + 1, byPid, waiters, placed, chain);
    }
}
