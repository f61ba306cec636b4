using ControlPlane.Cli.Common;

namespace ControlPlane.Cli.Fleet;

/// <summary>A replica named on the command line as TIER/NAME.</summary>
internal sealed record ReplicaAddress(string Tier, string Name)
{
    public const string ArgumentName = "TIER/NAME";

    /// <summary>Parses TIER/NAME; on failure <paramref name="error"/> names the argument, the value and the expected shape.</summary>
    public static bool TryParse(string? value, out ReplicaAddress? address, out string? error)
    {
        address = null;
        var parts = (value ?? string.Empty).Split('/');
        if (parts.Length != 2)
        {
            error = $"{ArgumentName}: '{value}' is not a replica address; expected TIER/NAME, e.g. oltp/oltp-1";
            return false;
        }

        error = Names.Check(parts[0], $"{ArgumentName} (tier part of '{value}')")
            ?? Names.Check(parts[1], $"{ArgumentName} (replica part of '{value}')");
        if (error is not null)
        {
            return false;
        }

        address = new ReplicaAddress(parts[0], parts[1]);
        return true;
    }

    public override string ToString() => $"{Tier}/{Name}";
}
