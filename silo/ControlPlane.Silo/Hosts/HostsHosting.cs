using ControlPlane.Grains.Hosts;

namespace ControlPlane.Silo.Hosts;

/// <summary>
/// A silo per database host: it names itself after its host in the membership table (the placement director reads
/// the name there), and replica grains are placed by <see cref="HostPlacementDirector"/>. See docs/hosts.md.
/// </summary>
internal static class HostsHosting
{
    public static ISiloBuilder AddControlPlaneHosts(this ISiloBuilder silo, HostIdentity host)
    {
        if (host.IsDeclared) silo.Configure<Orleans.Configuration.SiloOptions>(o => o.SiloName = host.Name);
        silo.Services.AddSingleton<IHostSilos, MembershipHostSilos>();
        silo.AddPlacementDirector<HostPlacement, HostPlacementDirector>();
        // The catalog's vantage grains, one per silo, answer while the catalog is down (docs/catalog.md, "HA catalog").
        silo.AddPlacementDirector<ControlPlane.Grains.Catalog.SiloPinnedPlacement, Catalog.SiloPinnedPlacementDirector>();
        return silo;
    }
}
