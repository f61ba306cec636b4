namespace ControlPlane.Grains.Hosts;

/// <summary>
/// The database host this silo runs on (<c>ControlPlane:Host</c>). Empty name: the single-host default, where the
/// silo drives every replica that has a data directory, as before hosts existed.
/// </summary>
public sealed class HostIdentity
{
    public const string Section = "ControlPlane:Host";

    /// <summary>The metadata key under which a silo publishes its host's name to the cluster.</summary>
    public const string MetadataKey = "controlplane.host";

    /// <summary>Name of the host, as replicas name it (<c>ControlPlane:Tiers:n:Replicas:m:HostName</c>).</summary>
    public string Name { get; set; } = "";

    /// <summary>The host's address: the silo listens there, and so do the PostgreSQL instances it starts.</summary>
    public string Address { get; set; } = "";

    /// <summary>Networks (CIDR) of the fleet's other hosts, admitted by pg_hba.conf of the instances this silo creates.</summary>
    public List<string> PeerNetworks { get; set; } = [];

    /// <summary>What this silo does to its primary when cut off from the cluster (<see cref="SelfFencePolicy"/>).</summary>
    public SelfFenceSettings SelfFence { get; set; } = new();

    /// <summary>True when this silo declares a host (multi-host deployment).</summary>
    public bool IsDeclared => Name.Length > 0;

    /// <summary>The problems with these settings, each naming the key, the value and what was expected.</summary>
    public IEnumerable<string> Validate()
    {
        if (Name.Length > 0 && !Fleet.FleetKeys.IsValidName(Name))
            yield return $"{Section}:Name is '{Name}'; expected a name matching {Fleet.FleetKeys.NamePattern}.";
        if (Address.Length > 0 && !System.Net.IPAddress.TryParse(Address, out _))
            yield return $"{Section}:Address is '{Address}'; expected an IP address such as 127.0.0.2.";
        foreach (var network in PeerNetworks.Where(n => !System.Net.IPNetwork.TryParse(n, out _)))
            yield return $"{Section}:PeerNetworks names '{network}'; expected a network in CIDR notation such as 10.0.1.0/24.";
        if (Address.Length > 0 && Name.Length == 0)
            yield return $"{Section}:Address is {Address} but {Section}:Name is empty; a host address needs the host's name.";
    }
}
