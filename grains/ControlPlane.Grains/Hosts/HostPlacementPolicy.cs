namespace ControlPlane.Grains.Hosts;

/// <summary>
/// Where a host-bound grain activates, as a pure function of the silos Orleans offers: on a silo of the grain's host
/// when one is in the cluster (it alone may touch that host's processes and files); otherwise on the silo that
/// handles the request, which reaches the instance over SQL only. A grain with no host goes to any silo.
/// </summary>
public static class HostPlacementPolicy
{
    /// <param name="host">The grain's host; null when it has none.</param>
    /// <param name="candidates">Compatible active silos, in a stable order.</param>
    /// <param name="hostOf">The host a silo declares (null: none).</param>
    /// <param name="local">The silo handling the placement request.</param>
    /// <param name="random">A random number, for the grains with no host.</param>
    public static TSilo Choose<TSilo>(string? host, IReadOnlyList<TSilo> candidates, Func<TSilo, string?> hostOf, TSilo local, int random)
        where TSilo : notnull
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(hostOf);
        if (candidates.Count == 0) throw new InvalidOperationException("no silo is compatible with the grain; the cluster has no active silo");
        if (host is not null)
        {
            foreach (var silo in candidates)
            {
                if (string.Equals(hostOf(silo), host, StringComparison.Ordinal)) return silo;
            }
            if (candidates.Contains(local)) return local;
        }
        return candidates[(int)((uint)random % (uint)candidates.Count)];
    }
}
