using ControlPlane.Grains.Failover;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Health;

/// <summary>
/// Heals a standby that answers but does not stream from the primary (<see cref="StreamingHealPolicy"/>): nothing
/// else notices it, since it is reachable and keeps its slot, yet it falls further behind forever.
/// </summary>
public sealed partial class TierGrain
{
    private readonly Dictionary<string, NotStreamingClock> _notStreamingSince = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _notStreamingHeals = new(StringComparer.Ordinal);

    /// <summary>While the primary is not healthy its standbys cannot stream: their clocks start again once it is.</summary>
    private void ResetNotStreamingClocks() => _notStreamingSince.Clear();

    /// <summary>
    /// Rejoins (or, when a rejoin did not help, rebuilds) <paramref name="standby"/> if it has answered without
    /// streaming from the primary for the tier's not_streaming_heal_after. Null when nothing is due; false when this
    /// activation is stale (it lost the decision's write).
    /// </summary>
    private async Task<bool?> HealNotStreamingAsync(TierSpec spec, ReplicaSpec standby, ReplicaHealth? primaryHealth, DateTimeOffset now)
    {
        var current = state.State;
        var primary = spec.Replicas.First(r => r.Name == current.Primary);
        _latest.TryGetValue(standby.Name, out var health);
        _notStreamingSince.TryGetValue(standby.Name, out var clock);
        clock = StreamingHealPolicy.Track(clock, health, primary.Name, primary.Address, now, StaleAfter);
        if (clock is null)
        {
            _notStreamingSince.Remove(standby.Name);
            // Streaming again: the next time it stops, a plain rejoin is tried first.
            if (health is not null && StreamingHealPolicy.StreamsFrom(health, primary.Address)) _notStreamingHeals.Remove(standby.Name);
            return null;
        }
        _notStreamingSince[standby.Name] = clock;
        var heal = StreamingHealPolicy.Decide(new StreamingFacts(standby.Name, primary.Name, health, clock,
            _notStreamingHeals.GetValueOrDefault(standby.Name),
            _rejoinedAt.TryGetValue(standby.Name, out var rejoinedAt) ? rejoinedAt : null,
            Broken: BrokenStandby.Reason(standby.Name, primary.Name, primaryHealth) is not null,
            current.Paused, current.Settings.NotStreamingHealAfter, RejoinGrace, now));
        if (heal is null) return null;

        var rebuild = heal.Action == StreamingHealAction.Rebuild || Untrusted(standby.Name);
        var record = new DecisionRecord(current.LastDecision + 1, now, DecisionKind.HealStandby, current.Term, current.Primary, current.Primary,
            heal.Reason, heal.Evidence, Controlplane, null, DecisionOutcome.Completed,
            [rebuild ? $"rebuilding {standby.Name}" : $"rejoining {standby.Name}"], now);
        if (!await PersistDecisionAsync(record, newPrimary: null)) return false;
        _rejoinedAt[standby.Name] = now;
        if (rebuild) _rebuiltAt[standby.Name] = now;
        _notStreamingHeals[standby.Name] = _notStreamingHeals.GetValueOrDefault(standby.Name) + 1;
        // The clock restarts once the rejoined standby answers again without streaming.
        _notStreamingSince.Remove(standby.Name);
        logger.LogWarning("Tier {Environment}/{Tier} term {Term}: {Reason}", spec.Environment, spec.Name, current.Term, heal.Reason);
        await Replica(spec, standby.Name).Rejoin(primary, current.Term, rebuild);
        return true;
    }
}
