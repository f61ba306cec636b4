using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Health;

namespace ControlPlane.Grains.Failover;

/// <summary>Turns the tier's latest replica reports into the policy's view. Pure.</summary>
public static class FailoverFacts
{
    /// <summary>A WAL receiver that heard nothing for this long is not evidence that its upstream lives.</summary>
    public static readonly TimeSpan StreamingEvidenceMaxAge = TimeSpan.FromSeconds(3);

    public static FailoverView Build(
        TierSpec spec, FailoverSettings settings, bool paused, long term, string primary,
        IReadOnlyDictionary<string, ReplicaHealth> latest, DateTimeOffset now, TimeSpan staleAfter)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(latest);
        var primarySpec = spec.Replicas.FirstOrDefault(r => r.Name == primary);
        var primaryAddress = primarySpec is null ? null : $"{primarySpec.Host}:{primarySpec.Port}";
        latest.TryGetValue(primary, out var primaryHealth);
        var synchronous = primaryHealth?.SyncStandbys ?? [];

        var replicas = spec.Replicas.Select(r =>
        {
            latest.TryGetValue(r.Name, out var h);
            var fresh = h is not null && now - h.ProbedAt <= staleAfter;
            var streaming = h is { Reachable: true, InRecovery: true }
                && h.WalReceiverStatus == "streaming"
                && primaryAddress is not null && h.WalReceiverUpstream == primaryAddress
                && (h.WalReceiverLastMessageAgeSeconds is not { } age || age <= StreamingEvidenceMaxAge.TotalSeconds);
            return new ReplicaFacts(
                r.Name,
                Reachable: h?.Reachable ?? false,
                Fresh: fresh,
                ConsecutiveFailures: h?.ConsecutiveFailures ?? 0,
                InRecovery: h?.InRecovery ?? false,
                ReceiveLsn: h?.ReceiveLsn,
                ReplayLsn: h?.ReplayLsn,
                StreamingFromPrimary: streaming,
                LastKnownSynchronous: synchronous.Contains(r.Name),
                Priority: settings.PriorityOf(r.Name),
                Session: h?.Session ?? SessionState.NotChecked,
                SessionFailures: h?.ConsecutiveSessionFailures ?? 0,
                PostmasterAlive: h?.PostmasterAlive,
                ReplayLagSeconds: h is { Reachable: true, InRecovery: true } ? h.ReplayLagSeconds : null,
                Broken: BrokenStandby.Reason(r.Name, primary, primaryHealth),
                DiskAvailableBytes: h?.DiskAvailableBytes,
                DiskFullFailures: h?.DiskFullFailures ?? 0,
                DiskWriteError: h?.DiskWriteError,
                RecentCrashes: CrashLoopPolicy.CountWithin(h?.CrashRestarts ?? [], now, settings.CrashLoopWindow));
        }).ToList();
        var primaryLsn = primaryHealth is { Reachable: true, InRecovery: false } ? primaryHealth.CurrentLsn : null;
        return new FailoverView(settings, paused, term, primary, primaryLsn ?? LastKnownPrimaryLsn(primaryHealth), replicas);
    }

    private static ulong? LastKnownPrimaryLsn(ReplicaHealth? h) => h?.LastWritableLsn;

    /// <summary>Names of replicas that are writable but are not the primary of the term: each must be fenced.</summary>
    public static IReadOnlyList<string> Rogues(TierSpec spec, string primary, IReadOnlyDictionary<string, ReplicaHealth> latest, DateTimeOffset now, TimeSpan staleAfter) =>
        spec.Replicas
            .Where(r => r.Name != primary
                && latest.TryGetValue(r.Name, out var h)
                && h.Reachable && !h.InRecovery && now - h.ProbedAt <= staleAfter)
            .Select(r => r.Name)
            .ToList();
}
