namespace ControlPlane.Postgres.Instances;

/// <summary>One instance on this host. The data directory sits in an instance directory that also holds the
/// server log and the replication password file, so neither is copied by a base backup.</summary>
/// <param name="ReplicatorPasswordFile">Password of the <c>replicator</c> role; null for instances that never replicate (the catalog).</param>
public sealed record LocalInstanceOptions(
    string Tier,
    string Name,
    string DataDirectory,
    int Port,
    string SuperuserPasswordFile,
    string? ReplicatorPasswordFile)
{
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>postgresql.conf lines appended to controlplane.conf at every write (a restore's recovery settings).</summary>
    public IReadOnlyList<string> ExtraSettings { get; init; } = [];

    /// <summary>The address the instance listens on and is reached at: the host's (docs/hosts.md).</summary>
    public string ListenAddress { get; init; } = InstanceConfig.LoopbackAddress;

    /// <summary>Client networks (CIDR) besides loopback that pg_hba.conf admits: the fleet's other hosts.</summary>
    public IReadOnlyList<string> PeerNetworks { get; init; } = [];
}

public enum StopMode { Fast, Immediate }

/// <summary>Signals for chaos: kill the postmaster, or freeze and thaw it.</summary>
public enum InstanceSignal { Kill, Stop, Continue }
