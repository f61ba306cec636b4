using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Health;

namespace ControlPlane.Grains.Health;

/// <summary>The tier's verdict on itself at one instant.</summary>
public sealed record TierView(TierHealth Health, string HealthReason, IReadOnlyList<ReplicaStatus> Replicas);

/// <summary>
/// Turns the latest probe of every replica into a verdict on each replica and on the tier.
/// Pure: the tier grain gathers the facts and calls this; tests call it with any facts they like.
/// A report older than the staleness limit counts as unreachable, because a replica grain that stopped
/// reporting (its silo died, its timer is stuck) tells us nothing about the instance.
/// </summary>
public static class TierHealthPolicy
{
    public static TierView Evaluate(
        TierSpec spec,
        string primary,
        long term,
        IReadOnlyDictionary<string, ReplicaHealth> latest,
        DateTimeOffset now,
        TimeSpan staleAfter)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(latest);

        latest.TryGetValue(primary, out var primaryHealth);
        var primaryLsn = primaryHealth is { Reachable: true, InRecovery: false } ? primaryHealth.CurrentLsn : null;

        var replicas = spec.Replicas
            .Select(r => Judge(r, r.Name == primary, term, latest.GetValueOrDefault(r.Name), primaryLsn, now, staleAfter,
                BrokenStandby.Reason(r.Name, primary, primaryHealth)))
            .ToList();

        var primaryStatus = replicas.FirstOrDefault(r => r.Name == primary);
        if (primaryStatus is null)
        {
            return new TierView(TierHealth.Down, string.IsNullOrEmpty(primary) ? "no primary is known" : $"primary {primary} is not a replica of the tier", replicas);
        }
        if (!primaryStatus.Healthy)
        {
            return new TierView(TierHealth.Down, $"primary {primary}: {primaryStatus.Problem}", replicas);
        }
        var sick = replicas.Where(r => !r.Healthy).ToList();
        if (sick.Count > 0)
        {
            return new TierView(TierHealth.Degraded, string.Join("; ", sick.Select(r => $"standby {r.Name}: {r.Problem}")), replicas);
        }
        return new TierView(TierHealth.Healthy, "", replicas);
    }

    private static ReplicaStatus Judge(
        ReplicaSpec spec, bool isPrimary, long term, ReplicaHealth? h, ulong? primaryLsn, DateTimeOffset now, TimeSpan staleAfter, string? broken)
    {
        if (h is null)
        {
            return Status(spec, h, ReplicaRole.Unknown, healthy: false, reachable: false, 0, 0, "not probed yet");
        }
        var age = now - h.ProbedAt;
        if (age > staleAfter)
        {
            // Worded without the age itself: a problem that changes every second would be a new event every second.
            return Status(spec, h, ReplicaRole.Unknown, healthy: false, reachable: false, 0, 0,
                $"no probe for more than {staleAfter.TotalSeconds:0.#}s");
        }
        // Said even while it is down or restarting: what it needs is a rebuild, not a restart.
        if (!isPrimary && broken is not null)
        {
            return Status(spec, h, h.Reachable ? (h.InRecovery ? ReplicaRole.Standby : ReplicaRole.Primary) : ReplicaRole.Unknown,
                healthy: false, reachable: h.Reachable, 0, 0, broken);
        }
        if (!h.Reachable)
        {
            return Status(spec, h, ReplicaRole.Unknown, healthy: false, reachable: false, 0, 0, $"unreachable: {h.Error}");
        }

        var role = h.InRecovery ? ReplicaRole.Standby : ReplicaRole.Primary;
        if (isPrimary)
        {
            if (h.InRecovery) return Status(spec, h, role, healthy: false, reachable: true, 0, 0, $"is the primary of term {term} but is in recovery");
            // It answers reads, but a write that needs a new block fails: not writable for clients.
            if (h.DiskFullFailures > 0)
                return Status(spec, h, role, healthy: false, reachable: true, 0, 0, $"disk full: writes fail ({h.DiskWriteError}); {h.DiskAvailableBytes} bytes available");
            // Its pooled sessions answer, but a client that is not connected yet cannot get in: not healthy.
            if (h.CannotOpenSession) return Status(spec, h, role, healthy: false, reachable: true, 0, 0, $"accepts no new session: {h.SessionError}");
            // Pressure and credentials: the server works for its clients; say so without calling it down.
            return h.Session is SessionState.TooManyClients or SessionState.AuthenticationFailed
                ? Status(spec, h, role, healthy: true, reachable: true, 0, 0, $"refuses new sessions: {h.SessionError}")
                : Status(spec, h, role, healthy: true, reachable: true, 0, 0, "");
        }

        var lagBytes = primaryLsn is { } p && h.ReplayLsn is { } r && p > r ? (long)Math.Min(p - r, long.MaxValue) : 0;
        var lagSeconds = Math.Max(0, h.ReplayLagSeconds ?? 0);
        if (!h.InRecovery)
        {
            return Status(spec, h, role, healthy: false, reachable: true, lagBytes, lagSeconds, $"is writable but is not the primary of term {term}");
        }
        if (!string.Equals(h.WalReceiverStatus, "streaming", StringComparison.Ordinal))
        {
            return Status(spec, h, role, healthy: false, reachable: true, lagBytes, lagSeconds,
                h.WalReceiverStatus is null ? "WAL receiver not running" : $"WAL receiver {h.WalReceiverStatus}");
        }
        if (h.CannotOpenSession)
        {
            return Status(spec, h, role, healthy: false, reachable: true, lagBytes, lagSeconds, $"accepts no new session: {h.SessionError}");
        }
        if (h.DiskFull)
        {
            return Status(spec, h, role, healthy: false, reachable: true, lagBytes, lagSeconds, $"disk full: {h.DiskAvailableBytes} bytes available; never promoted");
        }
        return Status(spec, h, role, healthy: true, reachable: true, lagBytes, lagSeconds, "");
    }

    private static ReplicaStatus Status(
        ReplicaSpec spec, ReplicaHealth? h, ReplicaRole role, bool healthy, bool reachable, long lagBytes, double lagSeconds, string problem) =>
        new(spec.Name, spec.Host, spec.Port, role, healthy, reachable, lagBytes, lagSeconds,
            reachable ? h?.Connections ?? 0 : 0,
            reachable ? h?.MaxConnections ?? 0 : 0,
            h?.ProbedAt, h?.ConsecutiveFailures ?? 0, h?.Timeline,
            h?.CurrentLsn, h?.ReceiveLsn, h?.ReplayLsn, h?.WalReceiverStatus, h?.ServerVersion,
            h?.ProbeLatencyMs ?? 0, problem,
            h?.Session ?? SessionState.NotChecked, h?.SessionError, h?.ConsecutiveSessionFailures ?? 0, h?.SessionCheckedAt, h?.SessionLatencyMs ?? 0,
            role == ReplicaRole.Primary ? h?.SyncStandbys ?? [] : []);
}
