namespace ControlPlane.Grains.Monitoring;

/// <summary>What one evaluation decided: the alerts still tracked and the transitions to persist, then deliver.</summary>
public sealed record AlertEvaluation(IReadOnlyList<ActiveAlert> Active, IReadOnlyList<AlertEvent> Events, long LastVersion);

/// <summary>
/// The alert state machine, pure. Per (rule, labels): a breach starts <see cref="AlertPhase.Pending"/>; a breach that
/// still holds <c>for</c> after it started turns <see cref="AlertPhase.Firing"/> (one Fired event, however many
/// readings follow: dedup); a reading that no longer breaches drops a pending alert silently and resolves a firing
/// one (one Resolved event). A metric not read in this evaluation leaves its alerts as they are: heavy metric
/// families report every few minutes, and an unreadable instance is not evidence that a condition went away.
/// Silences do not change the state machine, only mark the events they match so that they are not notified.
/// </summary>
public static class AlertPolicy
{
    public static AlertEvaluation Evaluate(
        IReadOnlyList<AlertRule> rules,
        IReadOnlyList<MetricObservation> observations,
        IReadOnlyList<ActiveAlert> active,
        IReadOnlyList<AlertSilence> silences,
        long lastVersion,
        DateTimeOffset now)
    {
        var tracked = active.ToDictionary(a => a.Key);
        var events = new List<AlertEvent>();
        var version = lastVersion;
        var ruleNames = rules.Where(r => r.Enabled).Select(r => r.Name).ToHashSet(StringComparer.Ordinal);

        foreach (var rule in rules.Where(r => r.Enabled))
        {
            // The newest reading per source wins when one batch carries several.
            var readings = observations.Where(o => o.Metric == rule.Metric)
                .GroupBy(o => AlertKey.Of(rule.Name, o.Labels.Concat(rule.Labels.Where(l => !o.Labels.ContainsKey(l.Key)))))
                .Select(g => (Key: g.Key, Reading: g.MaxBy(o => o.At)!));
            foreach (var (key, reading) in readings)
            {
                tracked.TryGetValue(key, out var current);
                var next = Step(rule, key, current, reading, now);
                if (next is null) tracked.Remove(key);
                else tracked[key] = next;
                var phase = Transition(current, next);
                if (phase is { } p)
                {
                    var started = current?.Since ?? next?.Since ?? now;
                    events.Add(new AlertEvent(++version, key, p, now, started, reading.Value, rule.Severity, rule.Summary, rule.Runbook,
                        silences.Any(s => s.ActiveAt(now) && s.Matches(key))));
                }
            }
        }

        // A rule removed or disabled takes its alerts with it; a firing one resolves so that receivers close it.
        foreach (var orphan in tracked.Values.Where(a => !ruleNames.Contains(a.Key.Rule)).ToList())
        {
            tracked.Remove(orphan.Key);
            if (orphan.Phase == AlertPhase.Firing)
            {
                events.Add(new AlertEvent(++version, orphan.Key, AlertPhase.Resolved, now, orphan.Since, orphan.Value, orphan.Severity,
                    orphan.Summary, orphan.Runbook, silences.Any(s => s.ActiveAt(now) && s.Matches(orphan.Key))));
            }
        }

        var ordered = tracked.Values.OrderBy(a => a.Key.Fingerprint, StringComparer.Ordinal).ToList();
        return new AlertEvaluation(ordered, events, version);
    }

    /// <summary>The alert after one reading; null when nothing is tracked any more.</summary>
    private static ActiveAlert? Step(AlertRule rule, AlertKey key, ActiveAlert? current, MetricObservation reading, DateTimeOffset now)
    {
        if (!rule.Breached(reading.Value)) return null;
        if (current is null)
        {
            var firing = rule.For <= TimeSpan.Zero;
            return new ActiveAlert(key, firing ? AlertPhase.Firing : AlertPhase.Pending, now, firing ? now : null, reading.Value, now,
                rule.Severity, rule.Summary, rule.Runbook);
        }
        var held = now - current.Since >= rule.For;
        return current.Phase == AlertPhase.Pending && held
            ? current with { Phase = AlertPhase.Firing, FiredAt = now, Value = reading.Value, LastSeen = now }
            : current with { Value = reading.Value, LastSeen = now };
    }

    private static AlertPhase? Transition(ActiveAlert? before, ActiveAlert? after) =>
        (before?.Phase, after?.Phase) switch
        {
            (not AlertPhase.Firing, AlertPhase.Firing) => AlertPhase.Firing,
            (AlertPhase.Firing, null) => AlertPhase.Resolved,
            _ => null,
        };

    /// <summary>Whether <paramref name="key"/> is muted by a silence active at <paramref name="at"/>.</summary>
    public static bool Silenced(AlertKey key, IReadOnlyList<AlertSilence> silences, DateTimeOffset at) =>
        silences.Any(s => s.ActiveAt(at) && s.Matches(key));
}
