using ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Security;

/// <summary>Who is calling, once authenticated.</summary>
/// <param name="Name">Token name, certificate principal, or "anonymous" with --insecure-no-auth.</param>
/// <param name="Kind">"token", "certificate" or "insecure-no-auth".</param>
/// <param name="Tenants">Empty: every tenant. Otherwise the only tenants the principal may see or touch.</param>
/// <param name="TokenId">The token's public id when <paramref name="Kind"/> is "token".</param>
/// <param name="ExpiresAt">The token's expiry, if it has one (open streams are cut then).</param>
internal sealed record Principal(string Name, string Kind, Role Role, IReadOnlyList<string> Tenants, string TokenId = "", DateTimeOffset? ExpiresAt = null)
{
    public const string TokenKind = "token";
    public const string CertificateKind = "certificate";
    public const string InsecureKind = "insecure-no-auth";

    public static readonly Principal Anonymous = new("anonymous", InsecureKind, Role.Admin, []);

    public bool IsTenantScoped => Tenants.Count > 0;

    /// <summary>What limits (open streams) are counted against: one token, one certificate principal.</summary>
    public string LimitKey => Kind == TokenKind ? $"token:{TokenId}" : $"{Kind}:{Name}";

    /// <summary>How the principal appears in the audit log and in messages.</summary>
    public string Display => Kind == TokenKind ? $"{Name} (token {TokenId})" : Name;
}
