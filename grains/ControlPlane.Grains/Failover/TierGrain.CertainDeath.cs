using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Health;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Health;

/// <summary>
/// Certain death is only certain once every standby has reported after the primary died (see
/// <see cref="ControlPlane.Grains.Failover.FailoverPolicy.CertainDeath"/>). When the primary's own report already
/// shows the other two signs (its port refuses, its postmaster is gone), the standbys are asked to probe now rather
/// than at their next tick, so the decision does not wait up to a probe interval for news it can have at once.
/// </summary>
public sealed partial class TierGrain
{
    private DateTimeOffset _standbysNudgedFor;

    private void NudgeStandbysOnLikelyDeath(TierSpec spec)
    {
        var primary = state.State.Primary;
        if (!_latest.TryGetValue(primary, out var h) || h.Reachable || h.Session != SessionState.Refused || h.PostmasterAlive != false) return;
        if (h.ProbedAt <= _standbysNudgedFor) return;
        _standbysNudgedFor = h.ProbedAt;
        foreach (var standby in spec.Replicas.Where(r => r.Name != primary))
        {
            if (_latest.TryGetValue(standby.Name, out var s) && s.ProbedAt > h.ProbedAt) continue;
            _ = ProbeQuietlyAsync(Replica(spec, standby.Name), standby.Name);
        }
    }

    /// <summary>Not awaited by the tier (the standby reports through <c>ReportProbe</c>); a failure only costs the head start.</summary>
    private async Task ProbeQuietlyAsync(IReplicaGrain replica, string name)
    {
        try
        {
            await replica.ProbeNow();
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException or InvalidOperationException)
        {
            logger.LogDebug(ex, "Tier {Tier}: could not ask {Replica} to probe now", this.GetPrimaryKeyString(), name);
        }
    }
}
