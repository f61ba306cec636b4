using System.Collections.Concurrent;

namespace ControlPlane.Silo.Security;

/// <summary>Counts open server streams per principal on this silo, so one caller cannot hold every watch slot.</summary>
internal sealed class StreamLimiter
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    public bool TryEnter(string key, int limit)
    {
        while (true)
        {
            var current = _open.GetOrAdd(key, 0);
            if (current >= limit) return false;
            if (_open.TryUpdate(key, current + 1, current)) return true;
        }
    }

    public void Exit(string key)
    {
        while (true)
        {
            var current = _open.GetValueOrDefault(key);
            if (current <= 0) return;
            if (_open.TryUpdate(key, current - 1, current)) return;
        }
    }

    public int Open(string key) => _open.GetValueOrDefault(key);
}
