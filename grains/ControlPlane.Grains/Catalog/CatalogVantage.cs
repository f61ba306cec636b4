using Orleans.Metadata;
using Orleans.Placement;

namespace ControlPlane.Grains.Catalog;

/// <summary>What this silo knows of its catalog connection; the silo's catalog supervisor implements it.</summary>
public interface ICatalogVantagePoint
{
    /// <summary>This silo's last checks reached a writable catalog host.</summary>
    bool ReachesCatalog { get; }
}

/// <summary>One silo's answer to "do you reach the catalog primary?".</summary>
[GenerateSerializer, Immutable, Alias("controlplane.CatalogVantageAnswer")]
public sealed record CatalogVantageAnswer([property: Id(0)] string Silo, [property: Id(1)] bool ReachesCatalog);

/// <summary>
/// Asks one silo whether it reaches the catalog. The grain is pinned to the silo its key names
/// (<see cref="SiloPinnedPlacement"/>) and keeps no state, so it works while the catalog, and with it the membership
/// table, is unreachable: the question travels over the silos' own cluster connections.
/// </summary>
[Alias("controlplane.ICatalogVantageGrain")]
public interface ICatalogVantageGrain : IGrainWithStringKey
{
    [Alias("Ask")]
    Task<CatalogVantageAnswer> AskAsync();
}

/// <summary>Keys of the vantage grains: the silo's address, then '#' and a spare number picking another activation on it.</summary>
public static class CatalogVantageKey
{
    public static string Of(string silo, int spare) => $"{silo}#{spare}";

    public static string SiloOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var hash = key.LastIndexOf('#');
        return hash < 0 ? key : key[..hash];
    }
}

[SiloPinnedPlacement]
internal sealed class CatalogVantageGrain(ICatalogVantagePoint vantage, ILocalSiloDetails silo) : Grain, ICatalogVantageGrain
{
    public Task<CatalogVantageAnswer> AskAsync() => Task.FromResult(new CatalogVantageAnswer(silo.SiloAddress.ToParsableString(), vantage.ReachesCatalog));
}

/// <summary>Places a grain on the silo its key names (<see cref="CatalogVantageKey"/>), nowhere else.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.SiloPinnedPlacement")]
public sealed class SiloPinnedPlacement : PlacementStrategy
{
    public static readonly SiloPinnedPlacement Singleton = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloPinnedPlacementAttribute() : PlacementAttribute(SiloPinnedPlacement.Singleton);
