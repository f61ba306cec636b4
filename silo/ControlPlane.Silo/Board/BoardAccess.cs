using ControlPlane.Protos.V1;
using ControlPlane.Silo.Security;

namespace ControlPlane.Silo.Board;

/// <summary>
/// The board's door: the same bearer tokens (or mapped client certificates) as the gRPC gateway, checked by the same
/// <see cref="Authenticator"/>. Every page is read-only and fleet-wide, so any viewer, operator or admin may look;
/// a tenant-scoped principal may not (tier state is shared by every tenant on the tier, docs/security.md).
/// Messages never echo the presented token.
/// </summary>
internal sealed class BoardAccess(Authenticator authenticator, RevocableStreams revocable, ILogger<BoardAccess> logger)
{
    /// <summary>The caller, and the token-cache generation taken before the check (a stream registers with it).</summary>
    public async Task<(Principal Principal, long Generation)> AdmitAsync(HttpContext http)
    {
        var generation = revocable.Generation;
        var header = http.Request.Headers.Authorization;
        Authentication auth;
        try
        {
            auth = await authenticator.AuthenticateAsync(header.Count > 0 ? header[0] : null, http.Connection.ClientCertificate, http.RequestAborted);
        }
        catch (TokenUnverifiableException ex)
        {
            throw new BoardProblem(StatusCodes.Status503ServiceUnavailable, ex.Message);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
        {
            logger.LogWarning("Board token check failed: {Error}", ex.Message);
            throw new BoardProblem(StatusCodes.Status503ServiceUnavailable, "cannot check credentials right now: the catalog is unreachable; retry.");
        }
        if (auth.Principal is not { } principal) throw Refuse(http, StatusCodes.Status401Unauthorized, auth.Failure);
        if (!Roles.Satisfies(principal.Role, Role.Viewer))
            throw Refuse(http, StatusCodes.Status403Forbidden, $"the board needs role viewer or above; {principal.Display} has role {Roles.Name(principal.Role)}.");
        if (principal.IsTenantScoped)
        {
            throw Refuse(http, StatusCodes.Status403Forbidden,
                $"the board shows fleet-wide state; {principal.Display} is limited to tenant(s) {string.Join(", ", principal.Tenants)}.");
        }
        return (principal, generation);
    }

    private BoardProblem Refuse(HttpContext http, int status, string reason)
    {
        logger.LogInformation("Board refused {Path} from {Peer}: {Reason}", http.Request.Path.Value, http.Connection.RemoteIpAddress, reason);
        return new BoardProblem(status, reason);
    }
}
