namespace ControlPlane.Grains.Failover;

/// <summary>Why an election is held: a switchover waits for its target to catch up, so lag does not disqualify.</summary>
public enum ElectionPurpose
{
    Failover,
    Switchover,
}

/// <summary>
/// Detection and election, as pure functions of what the tier knows. The tier grain gathers the facts, asks here,
/// persists the answer with a new term, and only then acts.
///
/// Detection declares the primary failed only on fresh evidence: <see cref="FailoverSettings.FailureThreshold"/>
/// consecutive failed probes. Two situations look like a dead primary but are not acted on, because the
/// control plane's own view is the likelier fault: every replica is unreachable at once (we are cut off), or a
/// standby still streams WAL from the primary (the primary is alive; only our path to it is broken).
///
/// Election picks, among standbys that answer, are in recovery and have a priority above zero (and, in
/// synchronous mode, were synchronous), the one with the most WAL; ties go to the higher priority, then the
/// lower name so the answer is deterministic. A candidate further behind the primary's last known position than
/// <see cref="FailoverSettings.MaxLagOnFailoverBytes"/> is refused unless an operator accepts data loss.
/// </summary>
public static class FailoverPolicy
{
    public static FailoverDecision Decide(FailoverView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var primary = view.Replicas.FirstOrDefault(r => r.Name == view.Primary);
        if (primary is null)
        {
            return new FailoverDecision(FailoverVerdict.NoCandidate, $"primary '{view.Primary}' of term {view.Term} is not a replica of the tier", null, []);
        }
        if (primary.Answering && !primary.InRecovery)
        {
            return new FailoverDecision(FailoverVerdict.PrimaryHealthy, "primary answers", null, []);
        }

        var threshold = view.Settings.FailureThreshold;
        var evidence = new List<string>();
        if (primary.Answering)
        {
            evidence.Add($"primary {primary.Name} answers but is in recovery");
        }
        else if (!primary.Fresh || primary.ConsecutiveFailures < threshold)
        {
            return new FailoverDecision(FailoverVerdict.Suspect,
                primary.Fresh
                    ? $"primary {primary.Name} missed {primary.ConsecutiveFailures} of {threshold} probes"
                    : $"no fresh probe of primary {primary.Name}",
                null, []);
        }
        else
        {
            evidence.Add($"primary {primary.Name} failed {primary.ConsecutiveFailures} consecutive probes (threshold {threshold})");
        }

        var others = view.Replicas.Where(r => r.Name != primary.Name).ToList();
        if (others.Count > 0 && others.All(r => !r.Answering))
        {
            evidence.Add("no other replica answers either");
            return new FailoverDecision(FailoverVerdict.Blind,
                "every replica of the tier is unreachable at once: the control plane is probably cut off; not failing over", null, evidence);
        }
        var streaming = others.Where(r => r.Answering && r.StreamingFromPrimary).Select(r => r.Name).ToList();
        if (streaming.Count > 0)
        {
            evidence.Add($"{string.Join(", ", streaming)} still streaming WAL from {primary.Name}");
            return new FailoverDecision(FailoverVerdict.PrimaryAliveToStandbys,
                $"standbys still stream from {primary.Name}: it is alive and only unreachable from the control plane; not failing over", null, evidence);
        }
        if (view.Paused || !view.Settings.AutoFailover)
        {
            return new FailoverDecision(FailoverVerdict.Suspended,
                view.Paused ? "primary failed but the tier is paused" : "primary failed but automatic failover is off", null, evidence);
        }

        var election = Elect(view, target: null, allowDataLoss: false, ElectionPurpose.Failover);
        evidence.AddRange(election.Evidence);
        return election.Candidate is null
            ? new FailoverDecision(FailoverVerdict.NoCandidate, election.Reason, null, evidence)
            : new FailoverDecision(FailoverVerdict.Promote, election.Reason, election.Candidate, evidence);
    }

    public static Election Elect(FailoverView view, string? target, bool allowDataLoss, ElectionPurpose purpose)
    {
        ArgumentNullException.ThrowIfNull(view);
        var settings = view.Settings;
        var evidence = new List<string>();
        var standbys = view.Replicas.Where(r => r.Name != view.Primary).ToList();
        var eligible = new List<ReplicaFacts>();
        foreach (var r in standbys)
        {
            var why = Ineligibility(r, settings, allowDataLoss);
            if (why is null) eligible.Add(r);
            else evidence.Add($"{r.Name} not eligible: {why}");
        }
        var best = eligible
            .OrderByDescending(r => r.Position)
            .ThenByDescending(r => r.Priority)
            .ThenBy(r => r.Name, StringComparer.Ordinal)
            .FirstOrDefault();

        ReplicaFacts chosen;
        if (target is not null)
        {
            var t = standbys.FirstOrDefault(r => r.Name == target);
            if (t is null)
            {
                return new Election(null, target == view.Primary
                    ? $"{target} is already the primary"
                    : $"{target} is not a standby of the tier", evidence);
            }
            if (Ineligibility(t, settings, allowDataLoss) is { } why) return new Election(null, $"{target} cannot be promoted: {why}", evidence);
            if (purpose == ElectionPurpose.Failover && best is not null && t.Position < best.Position && !allowDataLoss)
            {
                return new Election(null,
                    $"{target} is {best.Position - t.Position} bytes behind {best.Name}; promote {best.Name} or allow data loss", evidence);
            }
            chosen = t;
        }
        else if (best is null)
        {
            return new Election(null, standbys.Count == 0 ? "the tier has no standby" : "no standby is eligible", evidence);
        }
        else
        {
            chosen = best;
        }

        evidence.Add($"{chosen.Name} has WAL up to {chosen.Position} with priority {chosen.Priority}");
        if (purpose == ElectionPurpose.Failover && view.PrimaryLastLsn is { } last && last > chosen.Position)
        {
            var lag = (long)Math.Min(last - chosen.Position, long.MaxValue);
            evidence.Add($"{chosen.Name} is {lag} bytes behind the primary's last known position");
            if (lag > settings.MaxLagOnFailoverBytes && !allowDataLoss)
            {
                return new Election(null,
                    $"{chosen.Name} lags {lag} bytes, more than max_lag_on_failover {settings.MaxLagOnFailoverBytes}; an operator may force it with allow_data_loss",
                    evidence);
            }
        }
        return new Election(chosen.Name, $"promote {chosen.Name}", evidence);
    }

    private static string? Ineligibility(ReplicaFacts r, FailoverSettings settings, bool allowDataLoss)
    {
        if (!r.Reachable) return "unreachable";
        if (!r.Fresh) return "no fresh probe";
        if (!r.InRecovery) return "not in recovery";
        if (r.Priority <= 0) return "priority 0 (never promoted)";
        if (settings.SynchronousMode != SynchronousMode.Off && !r.LastKnownSynchronous && !allowDataLoss) return "not a synchronous standby";
        return null;
    }
}
