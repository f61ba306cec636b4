using Microsoft.Extensions.Logging;

namespace ControlPlane.Grains.Failover;

/// <summary>How a grain-state write ended.</summary>
public enum CatalogWrite
{
    /// <summary>The catalog holds the state (compare-and-set succeeded).</summary>
    Written = 0,

    /// <summary>The catalog is unreachable (or too slow): the state is kept in memory and written by a later flush.</summary>
    Deferred = 1,
}

/// <summary>
/// Whether this silo's grains currently reach the catalog with their writes (distinct from the silo's own
/// reachability checks, <c>ControlPlane.Silo.Catalog.CatalogHealth</c>, which feed it). One grain finding it
/// unreachable spares every other grain of the silo its own wait: a failover fences, promotes and repoints through
/// three replica grains, and each waiting out the deadline in turn would triple the outage. The silo's supervisor
/// marks it down as soon as its checks call the catalog unreachable, so a decision taken after a detected outage never
/// waits at all. Any successful write clears it, and so does the supervisor seeing the catalog answer again.
/// </summary>
public sealed class CatalogWriteStatus
{
    private long _downSinceTicks;

    /// <summary>Since when a grain of this silo last found the catalog unreachable; null once a write went through.</summary>
    public DateTimeOffset? DownSince
    {
        get
        {
            var ticks = Interlocked.Read(ref _downSinceTicks);
            return ticks == 0 ? null : new DateTimeOffset(ticks, TimeSpan.Zero);
        }
    }

    public void Down(DateTimeOffset at) => Interlocked.CompareExchange(ref _downSinceTicks, at.UtcTicks, 0);

    public void Up() => Interlocked.Exchange(ref _downSinceTicks, 0);
}

/// <summary>
/// Writes a grain's state to the catalog without ever blocking a decision on a catalog that hangs or is gone.
/// A write gets <see cref="Deadline"/>; one that fails for any reason but an ETag conflict, or runs out of time,
/// marks the catalog unreachable (for the whole silo, <see cref="CatalogWriteStatus"/>), after which writes are deferred
/// at once, without waiting, and <see cref="Flush"/> retries in the background until one goes through. At most one
/// write is in flight: an abandoned write may still complete later, and a second one racing it with the same ETag
/// would look like a conflict. An ETag conflict keeps its meaning (a newer activation owns the grain): it is thrown,
/// or reported through <paramref name="onLost"/> when it ends a background write. The ETag held is always the last
/// one the catalog confirmed, so a write made after the outage still loses against another activation's.
/// </summary>
public sealed class CatalogWriter<TState>(IPersistentState<TState> state, CatalogWriteStatus status, ILogger logger, string owner, Action onLost)
{
    /// <summary>How long a decision waits for the catalog before acting without it.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(1);

    private Task? _inflight;
    private long _changes;
    private bool _deferred;

    /// <summary>Since when this grain could not write the catalog; null while its writes go through.</summary>
    public DateTimeOffset? DownSince { get; private set; }

    /// <summary>True when memory holds changes the catalog does not.</summary>
    public bool Pending { get; private set; }

    /// <summary>Called once the catalog holds everything that was deferred.</summary>
    public Action? Flushed { get; set; }

    /// <summary>Writes now, or defers at once when the catalog is known unreachable. Throws on an ETag conflict.</summary>
    public Task<CatalogWrite> WriteAsync() =>
        DownSince is null && status.DownSince is null ? AttemptAsync() : Task.FromResult(Defer());

    /// <summary>Memory holds changes the catalog lacks (merged from the journal): the next flush writes them.</summary>
    public void MarkPending() => Defer();

    /// <summary>Starts a background write of pending state unless one is in flight; never waits for the catalog.</summary>
    public void Flush()
    {
        if (!Pending || _inflight is { IsCompleted: false }) return;
        var write = state.WriteStateAsync();
        _inflight = write;
        _ = CompleteFlushAsync(write, _changes);
    }

    private CatalogWrite Defer()
    {
        _changes++;
        _deferred = true;
        Pending = true;
        return CatalogWrite.Deferred;
    }

    private async Task<CatalogWrite> AttemptAsync()
    {
        if (_inflight is { IsCompleted: false }) return Defer();
        var changes = _changes;
        var write = state.WriteStateAsync();
        _inflight = write;
        if (await Task.WhenAny(write, Task.Delay(Deadline)) != write)
        {
            Down($"the write did not finish within {Deadline.TotalSeconds:0.#} s");
            _ = CompleteFlushAsync(write, changes);
            return Defer();
        }
        try
        {
            await write;
        }
        catch (InconsistentStateException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Down(ex.GetBaseException().Message);
            return Defer();
        }
        Up(changes);
        return CatalogWrite.Written;
    }

    /// <summary>The end of a write nobody waits for: a success catches the catalog up, a conflict means we are stale.</summary>
    private async Task CompleteFlushAsync(Task write, long changes)
    {
        try
        {
            await write;
        }
        catch (InconsistentStateException ex)
        {
            logger.LogError(ex, "{Owner}: a delayed catalog write lost its compare-and-set: a newer activation owns it; this one stops", owner);
            onLost();
            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Down(ex.GetBaseException().Message);
            return;
        }
        Up(changes);
    }

    private void Down(string error)
    {
        status.Down(DateTimeOffset.UtcNow);
        if (DownSince is not null) return;
        DownSince = DateTimeOffset.UtcNow;
        logger.LogError("{Owner}: the catalog is unreachable ({Error}); deciding from memory and the local journal until it returns", owner, error);
    }

    private void Up(long changes)
    {
        status.Up();
        if (DownSince is { } since)
        {
            logger.LogWarning("{Owner}: the catalog is reachable again after {Seconds:0.#} s", owner, (DateTimeOffset.UtcNow - since).TotalSeconds);
        }
        DownSince = null;
        // Changes deferred while this write was in flight are not in it.
        Pending = _changes != changes;
        if (Pending || !_deferred) return;
        _deferred = false;
        Flushed?.Invoke();
    }
}
