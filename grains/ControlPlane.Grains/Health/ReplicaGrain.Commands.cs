using ControlPlane.Grains.Failover;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Grains.Hosts;
using ControlPlane.Postgres.Hosts;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Health;

/// <summary>
/// What a replica does when its tier commands it. Every command carries the tier's term: the replica remembers
/// the highest term it obeyed (in memory, in the catalog when it is reachable, and for a promotion in the instance
/// itself) and refuses older ones, or one older than its instance carries, so a stale tier activation cannot fence,
/// promote or rewind anything after a newer one has acted. A catalog that cannot take the write does not stop a
/// command of a newer term: memory and the instance still fence the older ones.
/// </summary>
public sealed partial class ReplicaGrain
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan RejoinTimeout = TimeSpan.FromMinutes(10);
    private IInstanceDriver? _driver;
    private long _highestObeyed;
    private CatalogWriter<ReplicaState>? _catalog;

    private CatalogWriter<ReplicaState> Catalog =>
        _catalog ??= new CatalogWriter<ReplicaState>(state, catalogStatus, logger, $"Replica {this.GetPrimaryKeyString()}", DeactivateOnIdle);

    public async Task Fence(long term)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var spec = await AcceptAsync(term, "fence");
        var accepted = clock.ElapsedMilliseconds;
        using var cts = new CancellationTokenSource(CommandTimeout);
        // On its host every process is killed; over SQL it can only be made to refuse writes, and only if it answers.
        var method = await Driver.FenceAsync(Endpoint(spec), cts.Token);
        logger.LogWarning("Replica {Environment}/{Tier}/{Replica} fenced ({Method}) in term {Term} (accepted {Accepted} ms, fenced {Fenced} ms)",
            spec.Environment, spec.Tier, spec.Name, method, term, accepted, clock.ElapsedMilliseconds);
    }

    public async Task<bool> Promote(long term)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var spec = await AcceptAsync(term, "promote");
        var accepted = clock.ElapsedMilliseconds;
        using var cts = new CancellationTokenSource(CommandTimeout);
        // Well under the grain call timeout, so a promotion that cannot finish fails the decision instead of timing out the call.
        var promoted = await Driver.PromoteAsync(Endpoint(spec), TimeSpan.FromSeconds(20), cts.Token);
        var promotedAt = clock.ElapsedMilliseconds;
        // The term goes into the instance before the tier publishes it, i.e. before any client is routed here: from
        // now on every standby that replicates from it carries the term, with or without the catalog.
        if (promoted) await CarryTermOrWarnAsync(spec, term, cts.Token);
        var carriedAt = clock.ElapsedMilliseconds;
        await ProbeOnce(cts.Token);
        // Promoted after all, only later than the wait: it takes writes, so it must carry the term as well.
        if (!promoted && _latest is { Reachable: true, InRecovery: false }) await CarryTermOrWarnAsync(spec, term, cts.Token);
        // Where a slow promotion spent its time (term accepted, pg_promote, term carried, probed), for the decision log's readers.
        logger.LogWarning("Replica {Environment}/{Tier}/{Replica} promoted in term {Term}: {Promoted} (accepted {Accepted} ms, promoted {PromotedAt} ms, term carried {Carried} ms, probed {Probed} ms)",
            spec.Environment, spec.Tier, spec.Name, term, promoted, accepted, promotedAt, carriedAt, clock.ElapsedMilliseconds);
        return promoted;
    }

    /// <summary>A user without CREATE on the database cannot hold the term: the promotion stands, fenced by the catalog only.</summary>
    private async Task CarryTermOrWarnAsync(ReplicaSpec spec, long term, CancellationToken ct)
    {
        try
        {
            await CarryTermAsync(spec, term, ct);
        }
        catch (Npgsql.PostgresException ex) when (ex.SqlState == Npgsql.PostgresErrorCodes.InsufficientPrivilege)
        {
            logger.LogError("Replica {Environment}/{Tier}/{Replica} cannot record term {Term} in controlplane.term_history ({Error}); " +
                "grant CREATE on database {Database} to {User} so failovers stay fenced while the catalog is down",
                spec.Environment, spec.Tier, spec.Name, term, ex.MessageText, spec.Database, spec.User);
        }
    }

    public async Task<TierTerm> RecordTerm(long term)
    {
        var spec = await AcceptAsync(term, "record its term");
        using var cts = new CancellationTokenSource(CommandTimeout);
        return await CarryTermAsync(spec, term, cts.Token);
    }

    private async Task<TierTerm> CarryTermAsync(ReplicaSpec spec, long term, CancellationToken ct)
    {
        var carried = await TermHistory.RecordAsync(Endpoint(spec), term, spec.Name, RuntimeIdentity, ct);
        if (carried.Term > term)
        {
            throw new StaleTermException($"replica {spec.Tier}/{spec.Name} carries term {carried.Term} (primary {carried.Primary}) above term {term}");
        }
        if (carried.Primary != spec.Name)
        {
            throw new InvalidOperationException(
                $"term {term} of tier {spec.Tier} was already decided for {carried.Primary}; {spec.Name} must not take writes in it");
        }
        return new TierTerm(carried.Term, carried.Primary);
    }

    public Task<string?> HostRefusal(string operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var spec = state.State.Spec ?? throw new InvalidOperationException($"replica {this.GetPrimaryKeyString()} is not configured; cannot {operation}");
        return Task.FromResult(Driver.OnHost ? null : new NeedsHostSilo(operation, spec.Tier, spec.Name, spec.HostName ?? spec.Host).Message);
    }

    public async Task<ulong> StopClean(long term)
    {
        var spec = await AcceptAsync(term, "stop cleanly");
        using var cts = new CancellationTokenSource(CommandTimeout);
        var stopped = await Driver.StopCleanAsync(cts.Token);
        if (stopped.NeedsHost is { } needs) throw new NeedsHostSiloException(needs);
        var checkpoint = stopped.Value;
        logger.LogWarning("Replica {Environment}/{Tier}/{Replica} stopped cleanly in term {Term} at {Checkpoint}", spec.Environment, spec.Tier, spec.Name, term, checkpoint);
        return checkpoint.Value;
    }

    public async Task Rejoin(ReplicaSpec newPrimary, long term, bool rebuild)
    {
        ArgumentNullException.ThrowIfNull(newPrimary);
        ReplicaSpec spec;
        try
        {
            spec = await AcceptAsync(term, "rejoin");
        }
        catch (StaleTermException ex)
        {
            logger.LogWarning(ex, "Rejoin refused");
            return;
        }
        using var cts = new CancellationTokenSource(RejoinTimeout);
        try
        {
            var rejoined = await Driver.RejoinAsync(Endpoint(newPrimary), LocalFleetOptions.SlotName(spec.Name), rebuild, DivergenceRecorder(spec, term), cts.Token);
            if (rejoined.NeedsHost is { } needs)
            {
                // The tier heals it again later; by then the host's silo may be back and this grain on it.
                logger.LogError("Replica {Environment}/{Tier}/{Replica} is not rejoined to {Primary} in term {Term}: {Reason}",
                    spec.Environment, spec.Tier, spec.Name, newPrimary.Name, term, needs.Message);
                return;
            }
            logger.LogWarning("Replica {Environment}/{Tier}/{Replica} rejoined as a standby of {Primary} in term {Term}",
                spec.Environment, spec.Tier, spec.Name, newPrimary.Name, term);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogError(ex, "Replica {Environment}/{Tier}/{Replica} failed to rejoin {Primary} in term {Term}",
                spec.Environment, spec.Tier, spec.Name, newPrimary.Name, term);
        }
    }

    public async Task Repoint(ReplicaSpec newPrimary, long term)
    {
        ArgumentNullException.ThrowIfNull(newPrimary);
        var spec = await AcceptAsync(term, "repoint");
        using var cts = new CancellationTokenSource(CommandTimeout);
        if (await Driver.RepointAsync(Endpoint(newPrimary), LocalFleetOptions.SlotName(spec.Name), cts.Token) is { } needs)
        {
            throw new NeedsHostSiloException(needs);
        }
    }

    public async Task SetSynchronousStandbys(string value, long term)
    {
        ArgumentNullException.ThrowIfNull(value);
        var spec = await AcceptAsync(term, "set synchronous standbys");
        using var cts = new CancellationTokenSource(CommandTimeout);
        await SqlFailoverOps.SetSynchronousStandbyNamesAsync(Endpoint(spec), value, cts.Token);
    }

    public async Task<ReplicaHealth?> ProbeNow()
    {
        using var cts = new CancellationTokenSource(CommandTimeout);
        await ProbeOnce(cts.Token);
        return _latest;
    }

    private async Task<ReplicaSpec> AcceptAsync(long term, string what)
    {
        var spec = state.State.Spec ?? throw new InvalidOperationException($"replica {this.GetPrimaryKeyString()} is not configured; cannot {what}");
        var instance = _latest?.InstanceTerm;
        if (!TermFence.Accepts(term, state.State.HighestTerm, _highestObeyed, instance))
        {
            var known = Math.Max(Math.Max(state.State.HighestTerm, _highestObeyed), instance ?? 0);
            throw new StaleTermException(
                $"replica {spec.Tier}/{spec.Name} refuses to {what} for term {term}: it already obeyed or carries term {known}");
        }
        _highestObeyed = Math.Max(_highestObeyed, term);
        if (term > state.State.HighestTerm)
        {
            state.State.HighestTerm = term;
            // Deferred while the catalog is unreachable: the term stays fenced in memory (and, once promoted, in the instance).
            await Catalog.WriteAsync();
        }
        return spec;
    }

    private IInstanceDriver Driver => _driver ?? throw new InvalidOperationException($"replica {this.GetPrimaryKeyString()} is not configured");
}
