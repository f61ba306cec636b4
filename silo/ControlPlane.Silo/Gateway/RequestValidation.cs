using ControlPlane.Grains.Fleet;
using Grpc.Core;

namespace ControlPlane.Silo.Gateway;

/// <summary>Argument checks shared by every service; each failure names the field, the value and what was expected.</summary>
internal static class RequestValidation
{
    private const int ShownLength = 80;

    /// <summary>The environment to use: the request's, or the silo's default when empty.</summary>
    public static string Environment(string? requested, string fallback) =>
        string.IsNullOrEmpty(requested) ? fallback : Name("environment", requested);

    /// <summary>A required tier, replica or tenant name.</summary>
    public static string Name(string field, string? value)
    {
        if (string.IsNullOrEmpty(value))
            throw Invalid($"{field} is required; expected a name matching {FleetKeys.NamePattern}.");
        if (!FleetKeys.IsValidName(value))
            throw Invalid($"{field} '{Shown(value)}' is invalid; expected a name matching {FleetKeys.NamePattern}.");
        return value;
    }

    public static RpcException Invalid(string message) => new(new Status(StatusCode.InvalidArgument, message));

    public static RpcException NotFound(string message) => new(new Status(StatusCode.NotFound, message));

    /// <summary>Shows user input in an error safely: bounded, control characters escaped.</summary>
    public static string Shown(string value)
    {
        var cut = value.Length > ShownLength ? value[..ShownLength] + "…" : value;
        return string.Concat(cut.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }
}
