using ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Security;

/// <summary>The roles' names as stored and typed (viewer, operator, admin), and their order.</summary>
internal static class Roles
{
    public static string Name(Role role) => role switch
    {
        Role.Viewer => "viewer",
        Role.Operator => "operator",
        Role.Admin => "admin",
        _ => "none",
    };

    public static bool TryParse(string? value, out Role role)
    {
        role = value?.Trim().ToLowerInvariant() switch
        {
            "viewer" => Role.Viewer,
            "operator" => Role.Operator,
            "admin" => Role.Admin,
            _ => Role.Unspecified,
        };
        return role != Role.Unspecified;
    }

    /// <summary>Roles are ordered: an admin may do what an operator may, an operator what a viewer may.</summary>
    public static bool Satisfies(Role held, Role required) =>
        required != Role.Unspecified && held >= required && held <= Role.Admin;
}
