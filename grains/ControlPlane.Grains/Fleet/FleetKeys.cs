using System.Text.RegularExpressions;

namespace ControlPlane.Grains.Fleet;

/// <summary>
/// Grain keys and stream ids in the fleet's own words: <c>env</c>, <c>env/tier</c>, <c>env/tier/replica</c>.
/// Names are restricted so a key always splits back into its parts.
/// </summary>
public static partial class FleetKeys
{
    /// <summary>Orleans stream provider carrying tier changes.</summary>
    public const string StreamProvider = "tier-events";

    /// <summary>Stream namespace of tier changes; the stream key is the tier key.</summary>
    public const string TierStreamNamespace = "tier";

    /// <summary>Grain storage holding the control plane's state in the catalog.</summary>
    public const string Storage = "catalog";

    /// <summary>Pattern every environment, tier and replica name must match.</summary>
    public const string NamePattern = "^[a-z][a-z0-9-]{0,62}$";

    public static string Tier(string environment, string tier) => $"{environment}/{tier}";

    public static string Replica(string environment, string tier, string replica) => $"{environment}/{tier}/{replica}";

    public static bool IsValidName(string? name) => name is not null && NameRegex().IsMatch(name);

    [GeneratedRegex(NamePattern, RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();
}
