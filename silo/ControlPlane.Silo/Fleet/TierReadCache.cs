using System.Collections.Concurrent;
using ControlPlane.Grains.Fleet;

namespace ControlPlane.Silo.Fleet;

/// <summary>
/// This silo's copy of each environment's tier names, so a read RPC (GetTier, ListTiers, GetReplica) makes one
/// grain call (the tier's own, always fresh) instead of two: before it, every GetTier also asked the environment's
/// fleet grain whether the tier exists, one activation that serialised every reader of every tier
/// (bench/BENCHMARKS.md, section 1).
/// <para>
/// A list is served at most <see cref="MaxAge"/> old. A name that is not in it is looked up again before NOT_FOUND
/// is answered, so a tier registered a moment ago is found at once; only a tier removed within the last
/// <see cref="MaxAge"/> can still be found (its grain then answers as it does for a removed tier). Tier state
/// itself is never cached here: a read after a switchover or a failover sees the tier grain's state, as before.
/// Concurrent readers of a stale list share one grain call (the entry holds the task).
/// </para>
/// </summary>
internal sealed class TierReadCache(IClusterClient cluster)
{
    /// <summary>The oldest name list a read may be answered with.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<string, Entry> _names = new(StringComparer.Ordinal);

    /// <summary>The environment's tier names, at most <see cref="MaxAge"/> old.</summary>
    public Task<IReadOnlyList<string>> TierNamesAsync(string env)
    {
        var now = Environment.TickCount64;
        if (_names.TryGetValue(env, out var entry) && now - entry.FetchedAt <= MaxAge.TotalMilliseconds && !entry.Names.IsFaulted && !entry.Names.IsCanceled)
            return entry.Names;
        var fresh = new Entry(cluster.GetGrain<IFleetGrain>(env).ListTiers(), now);
        _names[env] = fresh;
        return fresh.Names;
    }

    /// <summary>True when <paramref name="tier"/> is registered; a miss is checked against the fleet grain itself.</summary>
    public async Task<(bool Found, IReadOnlyList<string> Names)> ContainsAsync(string env, string tier)
    {
        var names = await TierNamesAsync(env);
        if (names.Contains(tier)) return (true, names);
        _names.TryRemove(env, out _);
        names = await TierNamesAsync(env);
        return (names.Contains(tier), names);
    }

    private sealed record Entry(Task<IReadOnlyList<string>> Names, long FetchedAt);
}
