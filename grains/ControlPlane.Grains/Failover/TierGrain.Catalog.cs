using ControlPlane.Grains.Failover;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Health;

/// <summary>
/// The tier without its catalog. Every state write goes through a <see cref="CatalogWriter{TState}"/>: when the
/// catalog hangs or is gone, the tier keeps deciding and publishing from memory, records each decision first in a
/// fsynced journal on the silo's disk, and flushes its state to the catalog when it returns (the ETag held is the
/// last confirmed one, so a conflicting write still loses). Terms are reconciled upward from the fleet's instances
/// before any decision, so neither a restored catalog nor a decision the catalog never heard of is ever undercut.
/// See docs/design.md ("Failover without the catalog") for why this never yields two writable primaries in one term.
/// </summary>
public sealed partial class TierGrain
{
    private static readonly TimeSpan TermRecordRetry = TimeSpan.FromSeconds(30);
    private readonly string _activationId = Guid.NewGuid().ToString("N");
    private CatalogWriter<TierState>? _catalog;
    private bool _uncleanHandover;
    private DateTimeOffset _termRecordTriedAt;

    private CatalogWriter<TierState> Catalog => _catalog ??= new CatalogWriter<TierState>(
        state, catalogStatus, logger, $"Tier {this.GetPrimaryKeyString()}", DeactivateOnIdle) { Flushed = ClearJournal };

    /// <summary>Since when this tier could not write its catalog; null while it can.</summary>
    internal DateTimeOffset? CatalogDownSince => Catalog.DownSince;

    /// <summary>Writes the tier's state, or keeps it in memory while the catalog is unreachable. Throws on an ETag conflict.</summary>
    private Task<CatalogWrite> SaveStateAsync()
    {
        state.State.Owner = _activationId;
        return Catalog.WriteAsync();
    }

    /// <summary>
    /// On activation: the previous owner may have decided while the catalog was down (its journal, if it ran on this
    /// silo, says so) or may have died without handing over (then a term it decided could be unknown to everyone).
    /// </summary>
    private void RecoverFromJournal()
    {
        _uncleanHandover = state.State.Owner is not null;
        var key = this.GetPrimaryKeyString();
        JournalReplay replay;
        try
        {
            replay = journal.Read(key);
        }
        catch (IOException ex)
        {
            logger.LogError(ex, "Tier {Tier}: could not read its decision journal; terms are still reconciled from the fleet", key);
            return;
        }
        if (replay.Tier is null) return;
        var current = state.State;
        var (tier, last, decisions) = DecisionJournal.Merge(new TierTerm(current.Term, current.Primary), current.LastDecision, current.Decisions, replay);
        if (tier.Term != current.Term || last != current.LastDecision)
        {
            logger.LogWarning("Tier {Tier}: the journal holds decisions the catalog does not: term {CatalogTerm} -> {Term}, primary {Primary}",
                key, current.Term, tier.Term, tier.Primary);
        }
        current.Term = tier.Term;
        current.Primary = tier.Primary;
        current.LastDecision = last;
        current.Decisions = [.. decisions.TakeLast(DecisionLogLength)];
        Catalog.MarkPending();
    }

    /// <summary>Retries a pending write in the background (never waiting for the catalog).</summary>
    private void FlushCatalog()
    {
        if (!Catalog.Pending) return;
        state.State.Owner = _activationId;
        Catalog.Flush();
    }

    /// <summary>Once the catalog holds everything, the journal is no longer needed.</summary>
    private void ClearJournal()
    {
        try
        {
            journal.Clear(this.GetPrimaryKeyString());
            logger.LogWarning("Tier {Tier} term {Term}: the catalog caught up with the tier's decisions", this.GetPrimaryKeyString(), state.State.Term);
        }
        catch (IOException ex)
        {
            logger.LogWarning(ex, "Tier {Tier}: could not clear its decision journal", this.GetPrimaryKeyString());
        }
    }

    /// <summary>
    /// Makes the decision durable on local disk before it is acted on, when the catalog could not take it. The fsync
    /// runs on the thread pool: on a busy disk it takes hundreds of milliseconds, and blocking an Orleans scheduler
    /// thread that long would stall the replica grains that carry out the very decision (and every other grain).
    /// </summary>
    private async Task<bool> JournalAsync(DecisionRecord record)
    {
        var key = this.GetPrimaryKeyString();
        var entry = new JournalEntry(state.State.Term, state.State.Primary, record);
        try
        {
            await Task.Run(() => journal.Append(key, entry));
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            logger.LogError(ex, "Tier {Tier}: neither the catalog nor the local journal took decision {Sequence} (term {Term}); not acting on it",
                this.GetPrimaryKeyString(), record.Sequence, record.Term);
            return false;
        }
    }

    /// <summary>
    /// Before any decision: a term seen on an instance above the tier's own (a decision the catalog never heard of,
    /// or a catalog restored from an old backup) is adopted with the primary it names. True when it was.
    /// </summary>
    private async Task<bool> ReconcileTermAsync()
    {
        var current = state.State;
        var observed = TermFence.Observed(_latest.Values).ToList();
        var reconciled = TermFence.Reconcile(new TierTerm(current.Term, current.Primary), observed);
        if (reconciled.Term <= current.Term) return false;
        var record = new DecisionRecord(current.LastDecision + 1, DateTimeOffset.UtcNow, DecisionKind.TermReconciled, reconciled.Term,
            current.Primary, reconciled.Primary,
            $"the fleet carries term {reconciled.Term} (primary {reconciled.Primary}) above the tier's term {current.Term}: adopted",
            [.. _latest.Values.Where(h => h.InstanceTerm is > 0).Select(h => $"{h.Name} carries term {h.InstanceTerm} ({h.InstanceTermPrimary})")],
            Controlplane, null, DecisionOutcome.Recorded, [], DateTimeOffset.UtcNow);
        logger.LogWarning("Tier {Tier}: term {Old} -> {New} reconciled from the fleet; primary {Primary}",
            this.GetPrimaryKeyString(), current.Term, reconciled.Term, reconciled.Primary);
        if (!await PersistDecisionAsync(record, newPrimary: reconciled.Primary)) return true;
        await PublishAsync(forcePublish: true);
        return true;
    }

    /// <summary>The term of this activation's next new decision: above its own and every term seen in the fleet.</summary>
    private long NextTerm() =>
        TermFence.NextTerm(state.State.Term, TermFence.Observed(_latest.Values).Select(t => t.Term), _uncleanHandover);

    /// <summary>
    /// A primary that does not carry the tier's term yet (a fleet created before the term lived in the instances, an
    /// external tier, a term reconciled up) gets it, so a standby promoted later starts from a floor it replicated.
    /// </summary>
    private async Task RecordTermOnPrimaryAsync(TierSpec spec)
    {
        var current = state.State;
        if (!_latest.TryGetValue(current.Primary, out var h) || h.InstanceTerm >= current.Term) return;
        var now = DateTimeOffset.UtcNow;
        if (now - _termRecordTriedAt < TermRecordRetry) return;
        _termRecordTriedAt = now;
        try
        {
            var carried = await Replica(spec, current.Primary).RecordTerm(current.Term);
            logger.LogInformation("Tier {Environment}/{Tier}: primary {Primary} carries term {Term}", spec.Environment, spec.Name, current.Primary, carried.Term);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogWarning(ex, "Tier {Environment}/{Tier} term {Term}: could not record the term on {Primary}", spec.Environment, spec.Name, current.Term, current.Primary);
        }
    }

    /// <summary>A clean hand-over: the next activation knows this one decided nothing it could not see.</summary>
    private async Task HandOverAsync()
    {
        if (state.State.Spec is null || Catalog.DownSince is not null) return;
        state.State.Owner = null;
        try
        {
            await Catalog.WriteAsync();
        }
        catch (InconsistentStateException)
        {
            // Not ours to hand over.
        }
    }
}
