using ControlPlane.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.Collections;

namespace ControlPlane.Silo.Security;

/// <summary>The answer to "may this principal make this call", with the reason shown to the caller when not.</summary>
internal readonly record struct Decision(bool Allowed, string Reason)
{
    public static readonly Decision Allow = new(true, "");

    public static Decision Deny(string reason) => new(false, reason);
}

/// <summary>
/// Role and tenant scope checks, pure. A tenant-scoped principal may call SCOPE_TENANT RPCs for its own tenants,
/// SCOPE_CALLER RPCs, and nothing fleet- or tier-wide: tier state (primaries, lag, connections) is shared by every
/// tenant on the tier, so the safe default is to show a scoped principal none of it (docs/security.md).
/// </summary>
internal static class Authorizer
{
    public static Decision Decide(Principal principal, MethodPermission permission, IMessage? request)
    {
        if (!Roles.Satisfies(principal.Role, permission.Role))
        {
            return Decision.Deny(
                $"{permission.FullName} needs role {Roles.Name(permission.Role)}; {principal.Display} has role {Roles.Name(principal.Role)}.");
        }
        if (!principal.IsTenantScoped) return Decision.Allow;
        switch (permission.Scope)
        {
            case Scope.Caller:
                return Decision.Allow;
            case Scope.Tenant:
                var requested = TenantsOf(permission, request);
                if (requested.Count == 0)
                {
                    return Decision.Deny(
                        $"{permission.FullName}: {principal.Display} is limited to tenant(s) {string.Join(", ", principal.Tenants)}; the request must name one in '{permission.TenantField}'.");
                }
                var outside = requested.FirstOrDefault(t => !principal.Tenants.Contains(t, StringComparer.Ordinal));
                return outside is null
                    ? Decision.Allow
                    : Decision.Deny(
                        $"{permission.FullName}: {principal.Display} is limited to tenant(s) {string.Join(", ", principal.Tenants)}; tenant '{AuditText.Clean(outside, 64)}' is outside its scope.");
            default:
                return Decision.Deny(
                    $"{permission.FullName} concerns the whole fleet; {principal.Display} is limited to tenant(s) {string.Join(", ", principal.Tenants)} and may only call tenant RPCs for them.");
        }
    }

    /// <summary>The tenant(s) a request names in its declared tenant field; empty when none.</summary>
    public static IReadOnlyList<string> TenantsOf(MethodPermission permission, IMessage? request)
    {
        if (request is null || permission.TenantField.Length == 0) return [];
        var field = request.Descriptor.FindFieldByName(permission.TenantField);
        if (field is null) return [];
        return field.Accessor.GetValue(request) switch
        {
            string single when single.Length > 0 => [single],
            RepeatedField<string> many => many.Where(t => t.Length > 0).ToList(),
            _ => [],
        };
    }
}
