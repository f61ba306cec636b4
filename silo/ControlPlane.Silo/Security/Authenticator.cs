using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Security;

/// <summary>Who a call comes from, or why that could not be established (the UNAUTHENTICATED message).</summary>
internal readonly record struct Authentication(Principal? Principal, string Failure);

/// <summary>A token could not be checked: the catalog is unreachable and this silo has not verified the token before.</summary>
internal sealed class TokenUnverifiableException(string message) : Exception(message);

/// <summary>
/// Establishes the caller: a bearer token when the call carries one, else a mapped client certificate, else nobody.
/// Messages never echo the presented token.
/// <para>
/// Tokens are read through the <see cref="TokenCache"/>: a hit is trusted while the invalidation listener is
/// connected and has recently proved it hears notices (<see cref="TokenCache.Trusted"/>: any change to the row
/// would have dropped it), or while the catalog is known unreachable (degraded
/// mode: the last verified record is served, docs/security.md "Token cache"). Otherwise the row is read. The secret is
/// verified against the salted hash and the expiry checked on every call, cached or not.
/// </para>
/// </summary>
internal sealed class Authenticator(
    TokenStore tokens, TokenCache cache, Catalog.CatalogHealth catalog, IOptions<SecurityOptions> security, IOptions<TlsOptions> tls,
    TimeProvider clock)
{
    public const string Hint = "send 'authorization: Bearer <token>' (cpctl: --token, --token-file, CONTROLPLANE_TOKEN, or ./.controlplane/admin.token)";

    public Task<Authentication> AuthenticateAsync(ServerCallContext context) =>
        AuthenticateAsync(context.RequestHeaders.GetValue("authorization"), context.GetHttpContext().Connection.ClientCertificate, context.CancellationToken);

    /// <summary>The same check for a plain HTTP request (the web board): its authorization header, else its client certificate.</summary>
    public async Task<Authentication> AuthenticateAsync(string? header, X509Certificate2? certificate, CancellationToken ct)
    {
        if (security.Value.InsecureNoAuth) return new Authentication(Principal.Anonymous, "");

        if (header is not null) return await FromBearerAsync(header, ct);

        if (certificate is not null)
        {
            return FromCertificate(certificate) is { } principal
                ? new Authentication(principal, "")
                : new Authentication(null, $"client certificate '{certificate.Subject}' (thumbprint {certificate.Thumbprint}) is not mapped to a principal in ControlPlane:Tls:ClientPrincipals.");
        }
        return new Authentication(null, $"missing credentials: {Hint}.");
    }

    private async Task<Authentication> FromBearerAsync(string header, CancellationToken ct)
    {
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            return new Authentication(null, $"the authorization header is not a bearer token; {Hint}.");
        if (!BearerToken.TryParse(header[scheme.Length..].Trim(), out var id, out var secret))
            return new Authentication(null, "malformed bearer token: expected cpt_<16 hex>_<43 base64url characters>.");

        var record = await FindAsync(id, ct);
        if (record is null || !BearerToken.Verify(record.Salt, record.Hash, secret))
            return new Authentication(null, "invalid bearer token: unknown token or wrong secret.");
        // From here on the caller proved it holds the secret, so saying why the token no longer works leaks nothing.
        if (record.RevokedAt is { } revoked)
            return new Authentication(null, $"token '{record.Name}' ({record.Id}) was revoked at {revoked:u}.");
        if (record.ExpiresAt is { } expires && expires <= clock.GetUtcNow())
            return new Authentication(null, $"token '{record.Name}' ({record.Id}) expired at {expires:u}.");
        return new Authentication(new Principal(record.Name, Principal.TokenKind, record.Role, record.Tenants, record.Id, record.ExpiresAt), "");
    }

    private async Task<TokenRecord?> FindAsync(string id, CancellationToken ct)
    {
        var status = catalog.Current;
        if ((cache.Trusted || !status.Reachable) && cache.TryGet(id, out var cached)) return cached;
        if (!status.Reachable)
        {
            throw new TokenUnverifiableException(
                $"cannot verify this token right now: the catalog is unreachable since {status.Since:u} and this silo has not seen the token before; retry when it returns.");
        }
        var generation = cache.Generation;
        TokenRecord? record;
        try
        {
            record = await tokens.FindAsync(id, ct);
        }
        catch (Exception ex) when ((ex is Npgsql.NpgsqlException or TimeoutException) && cache.TryGet(id, out var known))
        {
            // The catalog failed before the supervisor noticed: the last verified record is as good as in the outage.
            return known;
        }
        if (record is not null) cache.TryAdd(record, generation);
        return record;
    }

    /// <summary>The chain was already checked against ClientCaFile by the TLS handshake; here only the mapping is looked up.</summary>
    private Principal? FromCertificate(X509Certificate2 certificate)
    {
        var mapping = tls.Value.ClientPrincipals.FirstOrDefault(p =>
            (p.Thumbprint.Length > 0 && string.Equals(p.Thumbprint.Replace(":", "", StringComparison.Ordinal), certificate.Thumbprint, StringComparison.OrdinalIgnoreCase))
            || (p.Thumbprint.Length == 0 && string.Equals(p.Subject, certificate.Subject, StringComparison.Ordinal)));
        return mapping is null ? null : new Principal(mapping.Principal, Principal.CertificateKind, mapping.ParsedRole, mapping.Tenants);
    }
}
