namespace ControlPlane.Grains.Pools;

/// <summary>What one claimant (a tenant, or a lease within a tenant) asks of a pool.</summary>
/// <param name="Key">Stable identity; also the last tie-break, so the answer never depends on input order.</param>
/// <param name="Requested">Connections wanted; the grant never exceeds it (nor <paramref name="Max"/>).</param>
public sealed record PoolDemand(string Key, int Weight, int Min, int Max, int Requested);

public sealed record PoolGrant(string Key, int Granted);

/// <param name="MinimumsMet">False when the capacity cannot cover every claimant's minimum; the grants then share
/// the capacity toward the minimums only, and the caller must refuse the newcomer rather than over-commit.</param>
public sealed record Allocation(IReadOnlyList<PoolGrant> Grants, bool MinimumsMet, int Capacity, int MinimumsNeeded)
{
    public int Total => Grants.Sum(g => g.Granted);

    public int GrantOf(string key) => Grants.FirstOrDefault(g => g.Key == key)?.Granted ?? 0;
}

/// <summary>
/// Pool allocation as a pure function. Each claimant's ceiling is min(requested, max) and its floor
/// min(min, ceiling). Floors are granted first; the capacity left is shared out one connection at a time to the
/// claimant with the highest weight / (extra + 1) that is still below its ceiling (the D'Hondt divisor method).
/// That is weighted max-min fairness in whole connections, and, unlike largest-remainder rounding, it is
/// monotone: raising one claimant's weight never lowers its grant. Ties go to the lower key, so the result is
/// deterministic. The sum of grants never exceeds the capacity; O((n + capacity) log n).
/// </summary>
public static class PoolAllocator
{
    public static Allocation Allocate(int capacity, IReadOnlyList<PoolDemand> demands)
    {
        ArgumentNullException.ThrowIfNull(demands);
        capacity = Math.Max(0, capacity);
        var n = demands.Count;
        var ceiling = new int[n];
        var floor = new int[n];
        long needed = 0;
        for (var i = 0; i < n; i++)
        {
            var d = demands[i];
            ceiling[i] = Math.Max(0, Math.Min(d.Requested, d.Max));
            floor[i] = Math.Clamp(d.Min, 0, ceiling[i]);
            needed += floor[i];
        }

        var neededInt = (int)Math.Min(needed, int.MaxValue);
        if (needed > capacity)
        {
            // Not every minimum fits: share what there is toward the minimums only, never beyond the capacity.
            var towardMinimums = demands.Select((d, i) => d with { Min = 0, Max = floor[i], Requested = floor[i] }).ToList();
            var partial = Share(capacity, towardMinimums, new int[n], floor);
            return new Allocation(partial, MinimumsMet: false, capacity, neededInt);
        }
        return new Allocation(Share(capacity - (int)needed, demands, floor, ceiling), MinimumsMet: true, capacity, neededInt);
    }

    /// <summary>Adds <paramref name="remaining"/> connections to <paramref name="start"/> by D'Hondt, up to each ceiling.</summary>
    private static List<PoolGrant> Share(int remaining, IReadOnlyList<PoolDemand> demands, int[] start, int[] ceiling)
    {
        var n = demands.Count;
        var granted = (int[])start.Clone();
        var extra = new int[n];
        var queue = new PriorityQueue<int, int>(new PriorityOrder(demands, extra));
        for (var i = 0; i < n; i++)
        {
            if (granted[i] < ceiling[i] && demands[i].Weight > 0) queue.Enqueue(i, i);
        }
        while (remaining > 0 && queue.TryDequeue(out var next, out _))
        {
            granted[next]++;
            extra[next]++;
            remaining--;
            if (granted[next] < ceiling[next]) queue.Enqueue(next, next);
        }
        var grants = new List<PoolGrant>(n);
        for (var i = 0; i < n; i++) grants.Add(new PoolGrant(demands[i].Key, granted[i]));
        return grants;
    }

    /// <summary>Higher weight / (extra + 1) first, compared exactly in integers; then the lower key, then input order.</summary>
    private sealed class PriorityOrder(IReadOnlyList<PoolDemand> demands, int[] extra) : IComparer<int>
    {
        public int Compare(int a, int b)
        {
            var left = (long)demands[a].Weight * (extra[b] + 1);
            var right = (long)demands[b].Weight * (extra[a] + 1);
            if (left != right) return left > right ? -1 : 1;
            var byKey = string.CompareOrdinal(demands[a].Key, demands[b].Key);
            return byKey != 0 ? byKey : a.CompareTo(b);
        }
    }
}
