namespace ControlPlane.Grains.Pools;

/// <summary>One client backend of a replica, as the replica's sampler saw it (ages in seconds).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.PoolSession")]
public sealed record PoolSession(
    [property: Id(0)] int Pid,
    [property: Id(1)] string ApplicationName,
    [property: Id(2)] bool IdleInTransaction,
    [property: Id(3)] double BackendAgeSeconds,
    [property: Id(4)] double? StateAgeSeconds);

/// <summary>What a replica grain reports to its tier's pool grain after each sample (facts flow up).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.ReplicaPoolSample")]
public sealed record ReplicaPoolSample(
    [property: Id(0)] string Replica,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] bool InRecovery,
    [property: Id(3)] int MaxConnections,
    [property: Id(4)] int SuperuserReserved,
    [property: Id(5)] int Reserved,
    [property: Id(6)] int MaxWalSenders,
    [property: Id(7)] int ServerVersionNum,
    [property: Id(8)] IReadOnlyList<PoolSession> Sessions);

/// <summary>The connections a tier can lend to leases, and its formula's terms (docs/pools.md).</summary>
public static class PoolCapacity
{
    /// <summary>From PostgreSQL 12, WAL senders have their own slots and no longer count against max_connections.</summary>
    public const int WalSendersOwnSlotsFrom = 120000;

    public static int Of(ReplicaPoolSample sample, PoolSettings settings)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(settings);
        var replication = sample.ServerVersionNum < WalSendersOwnSlotsFrom ? sample.MaxWalSenders : 0;
        var headroom = (int)Math.Ceiling(sample.MaxConnections * settings.HeadroomPercent / 100.0);
        return Math.Max(0, sample.MaxConnections - sample.SuperuserReserved - sample.Reserved - replication
            - settings.ControlPlaneReserve - headroom);
    }

    /// <summary>Client connections that are neither a lease's nor the control plane's own.</summary>
    public static int Unmanaged(ReplicaPoolSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        return sample.Sessions.Count(s => LeaseTags.LeaseIdOf(s.ApplicationName) is null && !IsControlPlane(s.ApplicationName));
    }

    public static bool IsControlPlane(string applicationName) => applicationName.StartsWith("controlplane-", StringComparison.Ordinal);
}

/// <summary>Per lease usage, overruns, leak suspects and the sessions the policy would terminate.</summary>
public sealed record LeakAssessment(
    IReadOnlyDictionary<string, LeaseUsage> Usage,
    IReadOnlyList<string> Overruns,
    IReadOnlyList<string> Alerts,
    IReadOnlyList<(int Pid, string LeaseId, double IdleSeconds)> Terminate);

/// <summary>
/// Leak and overrun detection over one sample, pure. A lease overruns when it holds more connections than its
/// grant (a tag of a lease that ended counts as an overrun of grant 0). A connection idle in transaction longer
/// than the suspect threshold is a leak suspect: it holds locks and a snapshot while doing nothing. The policy
/// terminates, when enabled, only tagged sessions past the hard limit: unmanaged sessions are not ours to kill.
/// </summary>
public static class LeakPolicy
{
    public static LeakAssessment Assess(ReplicaPoolSample sample, IReadOnlyDictionary<string, LeaseRecord> leases, PoolSettings settings)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(leases);
        ArgumentNullException.ThrowIfNull(settings);
        var usage = new Dictionary<string, LeaseUsage>(StringComparer.Ordinal);
        var overruns = new List<string>();
        var alerts = new List<string>();
        var terminate = new List<(int, string, double)>();
        var tagged = sample.Sessions
            .Select(s => (Session: s, LeaseId: LeaseTags.LeaseIdOf(s.ApplicationName)))
            .Where(t => t.LeaseId is not null)
            .GroupBy(t => t.LeaseId!, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var group in tagged)
        {
            var sessions = group.Select(t => t.Session).ToList();
            var idle = sessions.Where(s => s.IdleInTransaction).ToList();
            var longestIdle = idle.Count == 0 ? 0 : idle.Max(s => s.StateAgeSeconds ?? 0);
            var suspects = idle.Count(s => (s.StateAgeSeconds ?? 0) >= settings.LeakSuspectSeconds);
            usage[group.Key] = new LeaseUsage(sessions.Count, idle.Count, longestIdle, suspects, sessions.Max(s => s.BackendAgeSeconds));
            var granted = leases.TryGetValue(group.Key, out var lease) && lease.State == LeaseState.Active ? lease.Granted : 0;
            if (sessions.Count > granted)
            {
                overruns.Add(group.Key);
                alerts.Add(granted == 0 && lease?.State != LeaseState.Active
                    ? $"overrun: lease {group.Key} has ended but still holds {sessions.Count} connection(s) on {sample.Replica}"
                    : $"overrun: lease {group.Key} holds {sessions.Count} connection(s) on {sample.Replica}, granted {granted}");
            }
            if (suspects > 0)
            {
                alerts.Add($"leak suspect: lease {group.Key} has {suspects} connection(s) idle in transaction for {longestIdle:0}s or more on {sample.Replica} (threshold {settings.LeakSuspectSeconds}s)");
            }
            if (settings.TerminateIdleInTransactionSeconds > 0)
            {
                terminate.AddRange(idle.Where(s => (s.StateAgeSeconds ?? 0) >= settings.TerminateIdleInTransactionSeconds)
                    .Select(s => (s.Pid, group.Key, s.StateAgeSeconds ?? 0)));
            }
        }
        return new LeakAssessment(usage, overruns, alerts, terminate);
    }
}
