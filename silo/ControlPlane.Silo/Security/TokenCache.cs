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
/// </summary>
internal sealed class TokenCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, TokenRecord> _entries = new(StringComparer.Ordinal);
    private long _generation;
    private volatile bool _listening;

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
    }

    /// <summary>Drops everything (the listener (re)connected: it may have missed any number of changes).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _generation++;
            _entries.Clear();
        }
    }

    /// <summary>The listener connected (after dropping the cache) or lost its connection.</summary>
    public void SetListening(bool listening) => _listening = listening;
}
