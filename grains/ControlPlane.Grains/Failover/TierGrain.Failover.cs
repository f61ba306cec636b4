using ControlPlane.Grains.Failover;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Health;

/// <summary>
/// The tier's own decisions: fail over a failed primary, fence replicas writable outside their term, keep
/// synchronous standbys. Every decision is written to the catalog with a new term (compare-and-set on the grain
/// state's ETag) before anything is done; an activation that loses that write is stale and does nothing.
/// </summary>
public sealed partial class TierGrain
{
    private const string Controlplane = "controlplane";
    private const int DecisionLogLength = 200;
    private static readonly TimeSpan RogueRetry = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan RejoinGrace = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan AlertRepeat = TimeSpan.FromMinutes(5);
    private readonly Dictionary<string, DateTimeOffset> _rogueFencedAt = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _rejoinedAt = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _rebuiltAt = new(StringComparer.Ordinal);
    private bool _busy;
    private string _alert = "";
    private DateTimeOffset _alertRecordedAt;

    private async Task DecideAsync(TierSpec spec)
    {
        if (_busy) return;
        // A term above ours anywhere in the fleet is adopted first: no rogue check or election runs on a stale term.
        if (await ReconcileTermAsync()) return;
        var current = state.State;
        var now = DateTimeOffset.UtcNow;

        foreach (var rogue in FailoverFacts.Rogues(spec, current.Primary, _latest, now, StaleAfter))
        {
            if (_rogueFencedAt.TryGetValue(rogue, out var at) && now - at < RogueRetry) continue;
            _rogueFencedAt[rogue] = now;
            await FenceRogueAsync(spec, rogue);
        }

        var view = FailoverFacts.Build(spec, current.Settings, current.Paused, current.Term, current.Primary, _latest, now, StaleAfter)
            with { Vantage = Vantage(spec, now) };
        var decision = FailoverPolicy.Decide(view);
        switch (decision.Verdict)
        {
            case FailoverVerdict.Promote:
                await FailOverAsync(spec, decision.Candidate!, DecisionKind.AutomaticFailover, decision.Reason, decision.Evidence, Controlplane, null);
                break;
            case FailoverVerdict.Blind or FailoverVerdict.PrimaryAliveToStandbys or FailoverVerdict.NoCandidate or FailoverVerdict.Suspended
                or FailoverVerdict.Unconfirmed:
                await AlertAsync(decision.Reason, decision.Evidence);
                break;
            case FailoverVerdict.PrimaryHealthy or FailoverVerdict.SessionsRefused:
                // Refused sessions (pool pressure, credentials) are an alert on a primary that otherwise works.
                if (decision.Verdict == FailoverVerdict.SessionsRefused) await AlertAsync(decision.Reason, decision.Evidence);
                else if (_alert.Length > 0) await AlertAsync("", []);
                await KeepSynchronousStandbysAsync(spec);
                await RecordTermOnPrimaryAsync(spec);
                await HealStandbysAsync(spec);
                break;
            case FailoverVerdict.Suspect:
                NudgeStandbysOnLikelyDeath(spec);
                break;
        }
        if (decision.Verdict is not (FailoverVerdict.PrimaryHealthy or FailoverVerdict.SessionsRefused)) ResetNotStreamingClocks();
    }

    /// <summary>Persists a failover decision in a new term, then carries it out. Null when this activation is stale.</summary>
    private async Task<DecisionRecord?> FailOverAsync(
        TierSpec spec, string candidate, DecisionKind kind, string reason, IReadOnlyList<string> evidence, string principal, string? operationId)
    {
        var current = state.State;
        var record = new DecisionRecord(current.LastDecision + 1, DateTimeOffset.UtcNow, kind, NextTerm(), current.Primary, candidate,
            reason, evidence, principal, operationId, DecisionOutcome.Decided, [], null);
        if (!await PersistDecisionAsync(record, newPrimary: candidate)) return null;
        logger.LogWarning("Tier {Environment}/{Tier} term {Term}: {Kind} {Old} -> {New}: {Reason}",
            spec.Environment, spec.Name, record.Term, kind, record.OldPrimary, candidate, reason);
        if (Catalog.DownSince is not null)
        {
            record = record with { Steps = [$"{(long)(DateTimeOffset.UtcNow - record.At).TotalMilliseconds} ms: journaled on {RuntimeIdentity}; the catalog is unreachable"] };
        }
        return await CarryOutFailoverAsync(spec, record);
    }

    /// <summary>Fence the old primary, promote the new one, repoint the rest, publish, then rejoin the old one.
    /// Every step is idempotent, so a new activation can carry out a decision a dead one left half done.</summary>
    private async Task<DecisionRecord> CarryOutFailoverAsync(TierSpec spec, DecisionRecord record)
    {
        _busy = true;
        var steps = new List<string>(record.Steps);
        // Step times count from the decision, so a switchover's clean stop and its promotion read on one clock.
        long Ms() => (long)(DateTimeOffset.UtcNow - record.At).TotalMilliseconds;
        var term = record.Term;
        var newPrimary = spec.Replicas.First(r => r.Name == record.NewPrimary);
        var outcome = DecisionOutcome.Completed;
        var promoting = false;
        try
        {
            var old = spec.Replicas.FirstOrDefault(r => r.Name == record.OldPrimary);
            if (old is not null && old.Name != newPrimary.Name && record.Kind != DecisionKind.Switchover)
            {
                try
                {
                    await Replica(spec, old.Name).Fence(term);
                    steps.Add($"{Ms()} ms: fenced {old.Name}");
                }
                catch (Exception ex) when (ex is not StaleTermException)
                {
                    steps.Add($"{Ms()} ms: could not fence {old.Name} ({ex.Message}); it is unreachable, proceeding");
                }
            }

            promoting = true;
            var promoted = await Replica(spec, newPrimary.Name).Promote(term);
            var health = await Replica(spec, newPrimary.Name).ProbeNow();
            if (health is not null) _latest[newPrimary.Name] = health;
            if (!promoted && health is not { Reachable: true, InRecovery: false })
            {
                throw new InvalidOperationException($"{newPrimary.Name} did not leave recovery");
            }
            steps.Add($"{Ms()} ms: promoted {newPrimary.Name}{(promoted ? "" : " (already primary)")}");
            // Forced: a fresh activation finishing a dead one's decision has not heard from every replica yet, and the
            // new term must reach clients at once all the same.
            await PublishAsync(forcePublish: true);
            steps.Add($"{Ms()} ms: published term {term} with primary {newPrimary.Name}");

            // A promoted standby does not inherit the old primary's synchronous_standby_names: set them now, before
            // the writes of the new term pile up unprotected.
            // The loss clock belonged to the old primary's standbys; the new primary's start afresh.
            _appliedSynchronousNames = null;
            state.State.SynchronousLostSince = null;
            await KeepSynchronousStandbysAsync(spec);

            foreach (var standby in spec.Replicas.Where(r => r.Name != newPrimary.Name && r.Name != record.OldPrimary))
            {
                try
                {
                    await Replica(spec, standby.Name).Repoint(newPrimary, term);
                    steps.Add($"{Ms()} ms: repointed {standby.Name} at {newPrimary.Name}");
                }
                catch (Exception ex) when (ex is not StaleTermException)
                {
                    steps.Add($"{Ms()} ms: could not repoint {standby.Name}: {ex.Message}");
                }
            }
            if (old is not null && old.Name != newPrimary.Name)
            {
                _rejoinedAt[old.Name] = DateTimeOffset.UtcNow;
                await Replica(spec, old.Name).Rejoin(newPrimary, term, Untrusted(old.Name));
                steps.Add($"{Ms()} ms: rejoining {old.Name} as a standby of {newPrimary.Name}");
            }
        }
        catch (Exception ex)
        {
            outcome = DecisionOutcome.Failed;
            steps.Add($"{Ms()} ms: failed: {ex.Message}");
            logger.LogError(ex, "Tier {Environment}/{Tier} term {Term}: failover to {New} failed", spec.Environment, spec.Name, term, newPrimary.Name);
            if (promoting) steps.Add(await AbandonPromotionAsync(spec, newPrimary.Name, term));
        }
        finally
        {
            _busy = false;
        }
        var done = record with { Outcome = outcome, Steps = steps, CompletedAt = DateTimeOffset.UtcNow };
        await ReplaceDecisionAsync(done);
        return done;
    }

    /// <summary>
    /// A promotion that failed or timed out may still complete later: fence the candidate now, so it cannot take
    /// writes, and remember that its history is untrustworthy (it may carry a timeline numbered like the next
    /// primary's), so it is rebuilt from a base backup rather than rewound when it rejoins.
    /// </summary>
    private async Task<string> AbandonPromotionAsync(TierSpec spec, string candidate, long term)
    {
        if (!state.State.Untrusted.Contains(candidate)) state.State.Untrusted.Add(candidate);
        try
        {
            await Replica(spec, candidate).Fence(term);
            return $"fenced {candidate}: its abandoned promotion must not complete; it will be rebuilt";
        }
        catch (Exception ex) when (ex is not StaleTermException)
        {
            return $"could not fence {candidate} after the failed promotion: {ex.Message}";
        }
    }

    private bool Untrusted(string replica) => state.State.Untrusted.Contains(replica);

    private async Task FenceRogueAsync(TierSpec spec, string rogue)
    {
        var current = state.State;
        var record = new DecisionRecord(current.LastDecision + 1, DateTimeOffset.UtcNow, DecisionKind.FenceRogue, current.Term,
            current.Primary, current.Primary, $"{rogue} is writable but the primary of term {current.Term} is {current.Primary}",
            [$"{rogue} reports not in recovery"], Controlplane, null, DecisionOutcome.Decided, [], null);
        if (!await PersistDecisionAsync(record, newPrimary: null)) return;
        var steps = new List<string>();
        var outcome = DecisionOutcome.Completed;
        try
        {
            await Replica(spec, rogue).Fence(current.Term);
            steps.Add($"fenced {rogue}");
            var primary = spec.Replicas.First(r => r.Name == current.Primary);
            _rejoinedAt[rogue] = DateTimeOffset.UtcNow;
            await Replica(spec, rogue).Rejoin(primary, current.Term, Untrusted(rogue));
            steps.Add($"rejoining {rogue} as a standby of {primary.Name}");
        }
        catch (Exception ex)
        {
            outcome = DecisionOutcome.Failed;
            steps.Add($"failed: {ex.Message}");
        }
        await ReplaceDecisionAsync(record with { Outcome = outcome, Steps = steps, CompletedAt = DateTimeOffset.UtcNow });
    }

    /// <summary>
    /// A local standby that stays unreachable (killed, hung, crashed) is brought back as a standby of the primary:
    /// killed if it hangs, restarted, rewound or rebuilt as needed. Not retried within <see cref="RejoinGrace"/>,
    /// since a rejoin itself makes the standby unreachable for a while. A standby broken beyond streaming is rebuilt,
    /// and one that answers but does not stream is rejoined (<see cref="HealNotStreamingAsync"/>).
    /// </summary>
    private async Task HealStandbysAsync(TierSpec spec)
    {
        var current = state.State;
        var now = DateTimeOffset.UtcNow;
        var primary = spec.Replicas.First(r => r.Name == current.Primary);
        // A rebuilt replica streaming from the primary has a history we know again.
        if (current.Untrusted.RemoveAll(n => n != current.Primary
                && current.Snapshot?.Replicas.Any(r => r.Name == n && r.Healthy && r.Role == ReplicaRole.Standby) == true) > 0)
        {
            await SaveStateAsync();
        }
        // The grace covers a rejoin in progress; once the standby streamed again, a new failure deserves a new heal.
        foreach (var healthy in current.Snapshot?.Replicas.Where(r => r.Healthy && r.Role == ReplicaRole.Standby) ?? []) _rejoinedAt.Remove(healthy.Name);
        _latest.TryGetValue(primary.Name, out var primaryHealth);
        foreach (var standby in spec.Replicas.Where(r => r.Name != current.Primary && r.DataDirectory is not null))
        {
            if (await RebuildBrokenStandbyAsync(spec, standby, primaryHealth, now) is { } rebuilt)
            {
                if (!rebuilt) return;
                continue;
            }
            if (await HealNotStreamingAsync(spec, standby, primaryHealth, now) is { } healed)
            {
                if (!healed) return;
                continue;
            }
            if (!_latest.TryGetValue(standby.Name, out var h) || h.Reachable || now - h.ProbedAt > StaleAfter) continue;
            if (h.ConsecutiveFailures < 2 * current.Settings.FailureThreshold) continue;
            if (_rejoinedAt.TryGetValue(standby.Name, out var at) && now - at < RejoinGrace) continue;
            _rejoinedAt[standby.Name] = now;
            var record = new DecisionRecord(current.LastDecision + 1, now, DecisionKind.HealStandby, current.Term, current.Primary, current.Primary,
                $"standby {standby.Name} unreachable for {h.ConsecutiveFailures} probes: restarting it as a standby of {primary.Name}",
                [h.Error ?? "unreachable"], Controlplane, null, DecisionOutcome.Completed, [$"rejoining {standby.Name}"], now);
            if (!await PersistDecisionAsync(record, newPrimary: null)) return;
            await Replica(spec, standby.Name).Rejoin(primary, current.Term, Untrusted(standby.Name));
        }
    }

    /// <summary>
    /// Rebuilds a standby whose slot the primary invalidated (<see cref="BrokenStandby"/>): it can never stream
    /// again, so it gets a fresh base backup (the rejoin drops the lost slot and creates it anew). Null when the
    /// standby is not broken or was rebuilt too recently to judge; false when this activation is stale.
    /// </summary>
    private async Task<bool?> RebuildBrokenStandbyAsync(TierSpec spec, ReplicaSpec standby, ReplicaHealth? primaryHealth, DateTimeOffset now)
    {
        var current = state.State;
        if (primaryHealth is null || now - primaryHealth.ProbedAt > StaleAfter) return null;
        if (BrokenStandby.Reason(standby.Name, current.Primary, primaryHealth) is not { } broken) return null;
        // A rebuild deletes the standby's data directory: during a maintenance pause it is only reported.
        if (current.Paused) return null;
        // Only a probe of the primary taken after the last rebuild tells whether the new slot is lost again.
        if (_rebuiltAt.TryGetValue(standby.Name, out var at) && (primaryHealth.ProbedAt <= at || now - at < RejoinGrace)) return null;
        _rebuiltAt[standby.Name] = now;
        _rejoinedAt[standby.Name] = now;
        var primary = spec.Replicas.First(r => r.Name == current.Primary);
        var record = new DecisionRecord(current.LastDecision + 1, now, DecisionKind.HealStandby, current.Term, current.Primary, current.Primary,
            $"standby {standby.Name} is {broken}: rebuilding it from a fresh base backup of {primary.Name}",
            [$"primary {primary.Name} reports slot(s) {string.Join(", ", primaryHealth.LostSlots ?? [])} with wal_status 'lost'"],
            Controlplane, null, DecisionOutcome.Completed, [$"rebuilding {standby.Name}"], now);
        if (!await PersistDecisionAsync(record, newPrimary: null)) return false;
        logger.LogWarning("Tier {Environment}/{Tier} term {Term}: rebuilding broken standby {Standby}: {Reason}",
            spec.Environment, spec.Name, current.Term, standby.Name, broken);
        await Replica(spec, standby.Name).Rejoin(primary, current.Term, rebuild: true);
        return true;
    }

    private async Task AlertAsync(string alert, IReadOnlyList<string> evidence)
    {
        var now = DateTimeOffset.UtcNow;
        if (alert == _alert && (alert.Length == 0 || now - _alertRecordedAt < AlertRepeat)) return;
        _alert = alert;
        if (alert.Length > 0)
        {
            _alertRecordedAt = now;
            logger.LogError("Tier {Environment}/{Tier} term {Term} alert: {Alert}", state.State.Spec?.Environment, state.State.Spec?.Name, state.State.Term, alert);
            var current = state.State;
            await PersistDecisionAsync(new DecisionRecord(current.LastDecision + 1, now, DecisionKind.Alert, current.Term, current.Primary, current.Primary,
                alert, evidence, Controlplane, null, DecisionOutcome.Recorded, [], now), newPrimary: null);
        }
        await PublishAsync(forcePublish: false);
    }

    /// <summary>A decision a previous activation persisted but did not finish (its silo died): finish it.</summary>
    private async Task ResumeUnfinishedAsync(TierSpec spec)
    {
        var pending = state.State.Decisions.LastOrDefault();
        if (pending is { Outcome: DecisionOutcome.Decided, Kind: DecisionKind.AutomaticFailover or DecisionKind.ManualFailover }
            && pending.Term == state.State.Term)
        {
            logger.LogWarning("Tier {Environment}/{Tier} resumes unfinished decision {Sequence} of term {Term}", spec.Environment, spec.Name, pending.Sequence, pending.Term);
            await CarryOutFailoverAsync(spec, pending with { Steps = [.. pending.Steps, "resumed by a new activation"] });
        }
    }

    /// <summary>Appends the decision (and, for a failover, the new term and primary) with a compare-and-set write.</summary>
    private async Task<bool> PersistDecisionAsync(DecisionRecord record, string? newPrimary)
    {
        var current = state.State;
        var (term, primary, last) = (current.Term, current.Primary, current.LastDecision);
        current.Term = record.Term;
        if (newPrimary is not null) current.Primary = newPrimary;
        current.LastDecision = record.Sequence;
        current.Decisions.Add(record);
        if (current.Decisions.Count > DecisionLogLength) current.Decisions.RemoveRange(0, current.Decisions.Count - DecisionLogLength);
        void Undo()
        {
            current.Term = term;
            current.Primary = primary;
            current.LastDecision = last;
            current.Decisions.Remove(record);
        }
        try
        {
            // The catalog unreachable: the decision goes to the local journal (fsynced) before anything is done.
            if (await SaveStateAsync() == CatalogWrite.Deferred && !await JournalAsync(record))
            {
                Undo();
                return false;
            }
        }
        catch (InconsistentStateException ex)
        {
            Undo();
            logger.LogError(ex, "Tier {Tier} lost the write of decision {Sequence} (term {Term}): a newer activation owns the tier; this one stops",
                this.GetPrimaryKeyString(), record.Sequence, record.Term);
            DeactivateOnIdle();
            return false;
        }
        // The burnt term (see TermFence.NextTerm) is spent by the first term this activation decides itself.
        if (record.Term > term && record.Kind != DecisionKind.TermReconciled) _uncleanHandover = false;
        // Not awaited: the decision is already durable in the tier's state, and a slow audit insert must not delay acting.
        _ = AuditAsync(record);
        return true;
    }

    /// <summary>Decisions the tier takes on its own go to the audit log under the control plane's name;
    /// operators' commands are audited by the gateway already.</summary>
    private async Task AuditAsync(DecisionRecord record)
    {
        if (record.Principal != Controlplane) return;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await audit.AppendAsync(new ControlPlane.Grains.Security.AuditEntry
            {
                Principal = ControlPlane.Grains.Security.AuditEntry.ControlPlane,
                Rpc = "tier/" + record.Kind.ToString(),
                Outcome = ControlPlane.Grains.Security.AuditOutcome.Ok,
                Target = this.GetPrimaryKeyString(),
                Arguments = System.Text.Json.JsonSerializer.Serialize(new
                {
                    record.Sequence, record.Term, record.OldPrimary, record.NewPrimary, record.Evidence,
                }),
                Detail = record.Reason,
            }, cts.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The decision stands in the tier's own log; a catalog hiccup must not undo or delay a failover.
            logger.LogWarning(ex, "Tier {Tier}: could not audit decision {Sequence}", this.GetPrimaryKeyString(), record.Sequence);
        }
    }

    private async Task ReplaceDecisionAsync(DecisionRecord record)
    {
        var list = state.State.Decisions;
        var index = list.FindIndex(d => d.Sequence == record.Sequence);
        if (index >= 0) list[index] = record;
        try
        {
            if (await SaveStateAsync() == CatalogWrite.Deferred) await JournalAsync(record);
        }
        catch (InconsistentStateException ex)
        {
            logger.LogError(ex, "Tier {Tier} lost the write of the outcome of decision {Sequence}; deactivating", this.GetPrimaryKeyString(), record.Sequence);
            DeactivateOnIdle();
        }
    }
}
