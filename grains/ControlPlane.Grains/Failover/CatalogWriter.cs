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
/// Writes a grain's state to the catalog without ever blocking a decision on a catalog that hangs or is gone.
/// A write gets <see cref="Deadline"/>; one that fails for any reason but an ETag conflict, or that runs out of
/// time, puts the writer in "catalog unavailable" mode, in which further writes are deferred at once (no waiting)
/// until <see cref="FlushAsync"/> succeeds. At most one write is in flight: an abandoned write may still complete
/// later, and a second one racing it with the same ETag would look like a conflict. An ETag conflict keeps its
/// meaning (a newer activation owns the grain): it is thrown, or reported through <paramref name="onLost"/> when it
/// ends an abandoned write. The ETag held is always the last one the catalog confirmed, so a write made after the
/// outage still loses against another activation's.
/// </summary>
public sealed class CatalogWriter<TState>(IPersistentState<TState> state, ILogger logger, string owner, Action onLost)
{
    /// <summary>How long a decision waits for the catalog before acting without it.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(1);

    private Task? _inflight;

    /// <summary>Since when the catalog is known unreachable; null while writes go through.</summary>
    public DateTimeOffset? DownSince { get; private set; }

    /// <summary>True when memory holds changes the catalog does not.</summary>
    public bool Pending { get; private set; }

    public string LastError { get; private set; } = "";

    /// <summary>Writes now, or defers at once when the catalog is known unreachable. Throws on an ETag conflict.</summary>
    public Task<CatalogWrite> WriteAsync() => DownSince is null ? AttemptAsync() : Task.FromResult(Defer());

    /// <summary>Retries a deferred write (from a timer); leaves the unavailable mode when it goes through.</summary>
    public async Task<CatalogWrite> FlushAsync() => Pending || DownSince is not null ? await AttemptAsync() : CatalogWrite.Written;

    /// <summary>Memory holds changes the catalog lacks (merged from the journal): the next flush writes them.</summary>
    public void MarkPending() => Pending = true;

    private CatalogWrite Defer()
    {
        Pending = true;
        return CatalogWrite.Deferred;
    }

    private async Task<CatalogWrite> AttemptAsync()
    {
        if (_inflight is { IsCompleted: false }) return Defer();
        var write = state.WriteStateAsync();
        _inflight = write;
        if (await Task.WhenAny(write, Task.Delay(Deadline)) != write)
        {
            _ = ObserveAbandonedAsync(write);
            Down($"the write did not finish within {Deadline.TotalSeconds:0.#} s");
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
        if (DownSince is { } since)
        {
            logger.LogWarning("{Owner}: the catalog is reachable again after {Seconds:0.#} s; its state is up to date", owner,
                (DateTimeOffset.UtcNow - since).TotalSeconds);
        }
        DownSince = null;
        Pending = false;
        LastError = "";
        return CatalogWrite.Written;
    }

    private void Down(string error)
    {
        LastError = error;
        if (DownSince is not null) return;
        DownSince = DateTimeOffset.UtcNow;
        logger.LogError("{Owner}: the catalog is unreachable ({Error}); deciding from memory and the local journal until it returns", owner, error);
    }

    private async Task ObserveAbandonedAsync(Task write)
    {
        try
        {
            await write;
        }
        catch (InconsistentStateException ex)
        {
            logger.LogError(ex, "{Owner}: a delayed catalog write lost its compare-and-set: a newer activation owns it", owner);
            onLost();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            logger.LogDebug(ex, "{Owner}: an abandoned catalog write failed", owner);
        }
    }
}
