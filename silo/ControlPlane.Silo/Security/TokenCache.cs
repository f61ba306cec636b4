namespace ControlPlane.Silo.Security;

/// <summary>
/// Verified tokens this silo has seen, by id: the record (role, tenants, expiry, revocation, salt and hash, so the
/// secret is still verified on every call). Only rows that exist are added (an unknown id never is), so the cache
/// holds at most the cluster's real tokens. Kept correct by <see cref="TokenInvalidationListener"/>: a change to a
/// token row is announced by the catalog (LISTEN/NOTIFY) and drops that id; a listener that was deaf drops all.
/// <para>
/// An invalidation can race a read: a call reads the row, the row is revoked and announced, and the call then
/// stores what it read. Every invalidation therefore advances <see cref="Generation"/>, and a read stores its
/// record only if no invalidation happened since it began (<see cref="TryAdd"/>).
/// </para>
/// <para>
/// A connected listener is not proof enough: a half-open connection or a frozen backend delivers nothing and fails
/// nothing. So the listener makes a round trip on its connection every <see cref="TokenInvalidationListener.Heartbeat"/>
/// and reports when the last successful one began (<see cref="Confirm"/>). PostgreSQL delivers a listening backend's
/// pending notices before it answers a query, so every revocation committed before that moment has reached this
/// cache. Hits are trusted (<see cref="Trusted"/>) only while that moment is at most <see cref="TrustWindow"/> old:
/// a revocation is therefore honoured within <see cref="TrustWindow"/> of its commit even if the channel dies
/// silently, and at once when it dies loudly (pg_terminate_backend, a closed socket).
/// </para>
/// </summary>
internal sealed class TokenCache(TimeProvider? clock = null)
{
    /// <summary>How old the last confirmed round trip of the listener may be for a hit to be trusted (the staleness bound).</summary>
    public static readonly TimeSpan TrustWindow = TimeSpan.FromMilliseconds(750);

    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, TokenRecord> _entries = new(StringComparer.Ordinal);
    private long _generation;
    private volatile bool _listening;
    private long _confirmedAt = long.MinValue;

    /// <summary>Raised after an invalidation, outside the lock: the token id, or null when everything was dropped.</summary>
    public event Action<string?>? Invalidated;

    /// <summary>Advances on every invalidation; take it before reading a row from the catalog.</summary>
    public long Generation
    {
        get
        {
            lock (_lock) return _generation;
        }
    }

    /// <summary>True while the invalidation listener is connected and listening: only then is a hit trusted while the catalog is up.</summary>
    public bool Listening => _listening;

    /// <summary>
    /// True while hits may be served without reading the row: the listener is connected and a round trip on its
    /// connection that began at most <see cref="TrustWindow"/> ago has completed.
    /// </summary>
    public bool Trusted
    {
        get
        {
            var confirmed = Interlocked.Read(ref _confirmedAt);
            return _listening && confirmed != long.MinValue && _clock.GetElapsedTime(confirmed) <= TrustWindow;
        }
    }

    public int Count
    {
        get
        {
            lock (_lock) return _entries.Count;
        }
    }

    public bool TryGet(string id, out TokenRecord record)
    {
        lock (_lock) return _entries.TryGetValue(id, out record!);
    }

    /// <summary>Stores a record read after <paramref name="generation"/>; refused (false) if an invalidation came since.</summary>
    public bool TryAdd(TokenRecord record, long generation)
    {
        ArgumentNullException.ThrowIfNull(record);
        lock (_lock)
        {
            if (generation != _generation) return false;
            _entries[record.Id] = record;
            return true;
        }
    }

    /// <summary>The row of <paramref name="id"/> changed (revoked, deleted): the next call reads it again.</summary>
    public void Invalidate(string id)
    {
        lock (_lock)
        {
            _generation++;
            _entries.Remove(id);
        }
        Invalidated?.Invoke(id);
    }

    /// <summary>Drops everything (the listener (re)connected: it may have missed any number of changes).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _generation++;
            _entries.Clear();
        }
        Invalidated?.Invoke(null);
    }

    /// <summary>The listener connected (after dropping the cache) or lost its connection.</summary>
    public void SetListening(bool listening)
    {
        _listening = listening;
        if (!listening) Interlocked.Exchange(ref _confirmedAt, long.MinValue);
    }

    /// <summary>A round trip on the listening connection that began at <paramref name="begunAt"/> (a <see cref="TimeProvider"/> timestamp) completed.</summary>
    public void Confirm(long begunAt) => Interlocked.Exchange(ref _confirmedAt, begunAt);

    /// <summary>The timestamp a heartbeat takes when it begins (the cache's clock).</summary>
    public long Now() => _clock.GetTimestamp();
}
