using ControlPlane.Grains.Failover;
using ControlPlane.Grains.Monitoring;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Health;

/// <summary>
/// Keeps the primary's synchronous standbys (docs/failover.md#synchronous-mode): the value comes from the pure
/// <see cref="SynchronousStandbyPolicy"/>; every change is a <c>synchronous_standbys</c> decision persisted before the
/// primary is told (and the command carries the term, so a stale activation's change is refused by the replica). A
/// loss of every synchronous standby is an <c>alert</c> decision at once and the <c>SynchronousStandbyLost</c> alert
/// rule's reading, per standby.
/// </summary>
public sealed partial class TierGrain
{
    private static readonly TimeSpan SynchronousRetry = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan SynchronousReadingsEvery = TimeSpan.FromSeconds(5);
    private string? _appliedSynchronousNames;
    private DateTimeOffset _synchronousRetryAt;
    private DateTimeOffset _synchronousReportedAt;
    private string _synchronousReported = "";

    private async Task KeepSynchronousStandbysAsync(TierSpec spec)
    {
        var current = state.State;
        var settings = current.Settings;
        if (settings.SynchronousMode == SynchronousMode.Off && _appliedSynchronousNames is null or "" && current.SynchronousLostSince is null)
        {
            ReportSynchronousReadings(spec, []);
            return;
        }
        var now = DateTimeOffset.UtcNow;
        var standbys = spec.Replicas.Where(r => r.Name != current.Primary).Select(r => r.Name).ToList();
        var streaming = current.Snapshot?.Replicas.Where(r => r.Healthy && r.Name != current.Primary).Select(r => r.Name).ToList() ?? [];
        var plan = SynchronousStandbyPolicy.Plan(new SynchronousFacts(settings.SynchronousMode, settings.SynchronousDegradeAfter, current.Primary,
            standbys, streaming, current.SynchronousLostSince, now));
        ReportSynchronousReadings(spec, plan.Lost);

        var wasLost = current.SynchronousLostSince is not null;
        if (plan.LostSince is not null && !wasLost)
        {
            // Alert first, at once: commits are already waiting. Persisting the alert persists the loss clock with it.
            current.SynchronousLostSince = plan.LostSince;
            logger.LogError("Tier {Environment}/{Tier} term {Term} alert: {Alert}", spec.Environment, spec.Name, current.Term, plan.Alert);
            if (!await PersistDecisionAsync(new DecisionRecord(current.LastDecision + 1, now, DecisionKind.Alert, current.Term, current.Primary,
                    current.Primary, plan.Alert!, LostEvidence(current, plan.Lost), Controlplane, null, DecisionOutcome.Recorded, [], now), newPrimary: null))
            {
                return;
            }
        }
        if (plan.Names == _appliedSynchronousNames)
        {
            if (plan.LostSince is null && wasLost)
            {
                // Back without a change of names (the mode turned off while lost, or the same standbys stream again).
                current.SynchronousLostSince = null;
                await SaveStateAsync();
            }
            return;
        }
        if (now < _synchronousRetryAt) return;

        var previous = _appliedSynchronousNames;
        var change = $"synchronous_standby_names '{previous ?? "(unknown)"}' -> '{plan.Names}' ({settings.SynchronousMode} mode)";
        var reason = plan.State switch
        {
            SynchronousState.Degraded => $"{plan.Alert}: {change}",
            SynchronousState.Protected when wasLost => $"synchronous standby back: {string.Join(", ", streaming)} streams from {current.Primary} again: {change}",
            _ => change,
        };
        current.SynchronousLostSince = plan.LostSince;
        var record = new DecisionRecord(current.LastDecision + 1, now, DecisionKind.SynchronousStandbys, current.Term, current.Primary, current.Primary,
            reason, plan.Lost.Count > 0 ? LostEvidence(current, plan.Lost) : [], Controlplane, null, DecisionOutcome.Decided, [], null);
        if (!await PersistDecisionAsync(record, newPrimary: null)) return;
        var outcome = DecisionOutcome.Completed;
        string step;
        try
        {
            await Replica(spec, current.Primary).SetSynchronousStandbys(plan.Names, current.Term);
            _appliedSynchronousNames = plan.Names;
            step = $"set on {current.Primary} in term {current.Term}";
            if (plan.State == SynchronousState.Degraded)
            {
                logger.LogError("Tier {Environment}/{Tier} term {Term}: {Reason}", spec.Environment, spec.Name, current.Term, reason);
            }
        }
        catch (Exception ex) when (ex is not StaleTermException)
        {
            outcome = DecisionOutcome.Failed;
            step = $"could not set on {current.Primary}: {ex.Message}; retrying in {SynchronousRetry.TotalSeconds:0} s";
            _synchronousRetryAt = now + SynchronousRetry;
            logger.LogWarning(ex, "Tier {Environment}/{Tier}: could not set synchronous standbys on {Primary}", spec.Environment, spec.Name, current.Primary);
        }
        await ReplaceDecisionAsync(record with { Outcome = outcome, Steps = [step], CompletedAt = DateTimeOffset.UtcNow });
    }

    /// <summary>Each lost standby with what the tier last saw of it.</summary>
    private static IReadOnlyList<string> LostEvidence(TierState current, IReadOnlyList<string> lost) =>
        lost.Select(name => current.Snapshot?.Replicas.FirstOrDefault(r => r.Name == name) is { } r
                ? $"{name}: {(r.Problem.Length > 0 ? r.Problem : "not streaming")}"
                : $"{name}: not probed yet")
            .ToList();

    /// <summary>
    /// The <c>synchronous_standby_lost</c> reading per standby (1 while no standby confirms commits) to the alert
    /// engine: on a change, else every <see cref="SynchronousReadingsEvery"/> while one is lost. Not awaited.
    /// </summary>
    private void ReportSynchronousReadings(TierSpec spec, IReadOnlyList<string> lost)
    {
        var now = DateTimeOffset.UtcNow;
        var key = string.Join(",", lost);
        if (key == _synchronousReported && (key.Length == 0 || now - _synchronousReportedAt < SynchronousReadingsEvery)) return;
        _synchronousReported = key;
        _synchronousReportedAt = now;
        var readings = spec.Replicas.Select(r => new MetricObservation(MonitoringMetrics.SynchronousStandbyLost, new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["environment"] = spec.Environment,
                ["tier"] = spec.Name,
                ["replica"] = r.Name,
            }, lost.Contains(r.Name) ? 1 : 0, now))
            .ToList();
        _ = ReportSynchronousReadingsQuietlyAsync(spec, readings);
    }

    private async Task ReportSynchronousReadingsQuietlyAsync(TierSpec spec, IReadOnlyList<MetricObservation> readings)
    {
        try
        {
            await GrainFactory.GetGrain<IAlertGrain>(spec.Environment).Report(readings);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException)
        {
            logger.LogDebug(ex, "Tier {Environment}/{Tier} could not report its synchronous standby readings", spec.Environment, spec.Name);
        }
    }
}
