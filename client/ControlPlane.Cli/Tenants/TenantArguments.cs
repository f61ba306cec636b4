using System.Globalization;
using ControlPlane.Cli.Common;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Tenants;

/// <summary>The tenant commands' option values, parsed at parse time so bad input exits 2.</summary>
internal static class TenantArguments
{
    /// <summary>Null when <paramref name="text"/> is TIER:WEIGHT:MIN:MAX, else an error naming it.</summary>
    internal static string? ParsePlan(string text, out TenantPlan plan)
    {
        plan = new TenantPlan();
        var parts = text.Split(':');
        if (parts.Length != 4 || !Names.IsValid(parts[0])
            || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out var w)
            || !int.TryParse(parts[2], CultureInfo.InvariantCulture, out var min)
            || !int.TryParse(parts[3], CultureInfo.InvariantCulture, out var max))
            return $"--plan '{text}' is invalid; expected TIER:WEIGHT:MIN:MAX, e.g. oltp:3:5:40";
        plan = new TenantPlan { Tier = parts[0], Weight = w, Min = min, Max = max };
        return null;
    }

    /// <summary>Null when <paramref name="text"/> is TIER:schema or TIER:shared, else an error naming it.</summary>
    internal static string? ParsePlacement(string text, out TenantPlacement placement)
    {
        placement = new TenantPlacement();
        var parts = text.Split(':');
        PlacementKind? kind = parts.Length == 2 ? parts[1] switch { "schema" => PlacementKind.Schema, "shared" => PlacementKind.Shared, _ => null } : null;
        if (parts.Length != 2 || !Names.IsValid(parts[0]) || kind is null)
            return $"--placement '{text}' is invalid; expected TIER:schema or TIER:shared, e.g. oltp:schema";
        placement = new TenantPlacement { Tier = parts[0], Kind = kind.Value };
        return null;
    }
}
