using ControlPlane.Grains.Fleet;
using ControlPlane.Grains.Health;

namespace ControlPlane.Grains.Hosts;

/// <summary>
/// Which host each replica runs on, by replica grain key, from the silo's configuration (every silo of a multi-host
/// fleet reads the same tiers). The placement director needs it before the grain (and its state) exists.
/// </summary>
public sealed class ReplicaHosts
{
    private readonly Dictionary<string, string> _hosts;

    public ReplicaHosts(IEnumerable<ReplicaSpec> replicas)
    {
        ArgumentNullException.ThrowIfNull(replicas);
        _hosts = replicas.Where(r => r.HostName is not null)
            .ToDictionary(r => FleetKeys.Replica(r.Environment, r.Tier, r.Name), r => r.HostName!, StringComparer.Ordinal);
    }

    public static ReplicaHosts None { get; } = new([]);

    /// <summary>The host of the replica grain with this key, or null when it names none.</summary>
    public string? HostOf(string replicaKey) => _hosts.GetValueOrDefault(replicaKey);
}

/// <summary>Whether a host's silo is an active member of the cluster right now.</summary>
public interface IHostSilos
{
    bool IsActive(string host);

    /// <summary>The names of the cluster's active silos (a declared host's silo is named after it).</summary>
    IReadOnlyCollection<string> ActiveSilos();
}
