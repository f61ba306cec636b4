using Orleans.Metadata;
using Orleans.Placement;

namespace ControlPlane.Grains.Hosts;

/// <summary>
/// Places a grain whose work needs a database host (a replica: start/stop, pg_rewind, base backups, fencing by
/// killing processes) on the silo of that host; see <see cref="HostPlacementPolicy"/>. Grains without a host
/// (tiers, tenants, pools, changes) keep Orleans' default placement.
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.HostPlacement")]
public sealed class HostPlacement : PlacementStrategy
{
    public static readonly HostPlacement Singleton = new();
}

/// <summary>Marks a grain class for <see cref="HostPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class HostPlacementAttribute() : PlacementAttribute(HostPlacement.Singleton);
