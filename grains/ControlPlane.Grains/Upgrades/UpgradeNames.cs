namespace ControlPlane.Grains.Upgrades;

/// <summary>The names methods go by in requests, the CLI and reports.</summary>
public static class UpgradeNames
{
    public static string Of(UpgradeMethod method) => method switch
    {
        UpgradeMethod.Logical => "logical",
        UpgradeMethod.Dump => "dump",
        _ => "pg_upgrade",
    };

    public static bool TryParse(string? name, out UpgradeMethod method)
    {
        method = UpgradeMethod.Logical;
        foreach (var m in Enum.GetValues<UpgradeMethod>())
        {
            if (string.Equals(Of(m), name, StringComparison.OrdinalIgnoreCase) || string.Equals(Of(m).Replace("_", "-", StringComparison.Ordinal), name, StringComparison.OrdinalIgnoreCase))
            {
                method = m;
                return true;
            }
        }
        return false;
    }
}
