using ControlPlane.Grains.Catalog;
using Orleans.Runtime.Placement;

namespace ControlPlane.Silo.Catalog;

/// <summary>Places a <see cref="SiloPinnedPlacement"/> grain on the silo its key names; refuses any other silo.</summary>
internal sealed class SiloPinnedPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var wanted = SiloAddress.FromParsableString(CatalogVantageKey.SiloOf(target.GrainIdentity.Key.ToString()!));
        var silo = context.GetCompatibleSilos(target).FirstOrDefault(s => s.Equals(wanted))
            ?? throw new OrleansException($"silo {wanted} is not an active silo of this cluster; its vantage grain is not placed elsewhere");
        return Task.FromResult(silo);
    }
}
