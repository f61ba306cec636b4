using System.Security.Claims;
using ControlPlane.Grains.Security;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using ControlPlane.Silo.Catalog;
using Microsoft.Extensions.Options;

namespace ControlPlane.Silo.Security;

/// <summary>
/// The gateway's door: every call of a controlplane.v1 RPC is authenticated, checked against the permission its
/// RPC declares, counted against the caller's stream limit, and (when denied or mutating) audited. It runs first,
/// so handlers only ever see permitted calls, and it fails closed: an RPC missing from the table is refused.
/// </summary>
/// <remarks>
/// While the catalog is known unreachable (<see cref="CatalogHealth"/>), mutating RPCs are refused with UNAVAILABLE
/// after authentication and authorization (so a caller still learns if it lacks the role), and nothing is appended
/// to the audit log, which lives in the catalog: the refusal is logged instead.
/// </remarks>
internal sealed class SecurityInterceptor(
    PermissionTable permissions, Authenticator authenticator, IAuditLog audit, StreamLimiter streams, RevocableStreams revocable, CatalogHealth catalog,
    IOptions<SecurityOptions> options, ILogger<SecurityInterceptor> logger) : Interceptor
{
    private const string PrincipalKey = "controlplane.principal";
    private const string OperationHeader = "x-operation-id";

    /// <summary>The authenticated caller of a call that passed the interceptor.</summary>
    public static Principal PrincipalOf(ServerCallContext context) =>
        context.UserState.TryGetValue(PrincipalKey, out var p) && p is Principal principal
            ? principal
            : throw new InvalidOperationException("no principal: the security interceptor did not run for this call");

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (PermissionTable.IsOpen(context.Method)) return await continuation(request, context);
        var call = await AdmitAsync(request as IMessage, context);
        if (!call.Permission.Mutating) return await continuation(request, context);
        try
        {
            var response = await continuation(request, context);
            await RecordAsync(call, context, request as IMessage, AuditOutcome.Ok, StatusCode.OK, "");
            return response;
        }
        catch (RpcException ex)
        {
            await RecordAsync(call, context, request as IMessage, AuditOutcome.Failed, ex.StatusCode, ex.Status.Detail);
            throw;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (PermissionTable.IsOpen(context.Method))
        {
            await continuation(request, responseStream, context);
            return;
        }
        var call = await AdmitAsync(request as IMessage, context);
        await WithStreamSlotAsync(call, context, request as IMessage, c => continuation(request, responseStream, c));
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (PermissionTable.IsOpen(context.Method)) return await continuation(requestStream, context);
        var call = await AdmitAsync(null, context);
        TResponse response = default!;
        await WithStreamSlotAsync(call, context, null, async c => response = await continuation(requestStream, c));
        return response;
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(
        IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        if (PermissionTable.IsOpen(context.Method))
        {
            await continuation(requestStream, responseStream, context);
            return;
        }
        var call = await AdmitAsync(null, context);
        await WithStreamSlotAsync(call, context, null, c => continuation(requestStream, responseStream, c));
    }

    private sealed record AdmittedCall(Principal Principal, MethodPermission Permission, string OperationId, long TokenGeneration);

    private async Task<AdmittedCall> AdmitAsync(IMessage? request, ServerCallContext context)
    {
        var operationId = CatalogAuditLog.NewOperationId();
        context.ResponseTrailers.Add(OperationHeader, operationId);
        if (!permissions.TryGet(context.Method, out var permission))
        {
            var message = $"{AuditText.Clean(context.Method, 200)} is not a known RPC with a declared permission.";
            await DenyAsync(null, context.Method.TrimStart('/'), request, context, operationId, StatusCode.PermissionDenied, message);
        }

        var generation = revocable.Generation;
        Authentication auth;
        try
        {
            auth = await authenticator.AuthenticateAsync(context);
        }
        catch (TokenUnverifiableException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
        {
            logger.LogWarning("Token check for {Method} failed: {Error}", context.Method, ex.Message);
            throw new RpcException(new Status(StatusCode.Unavailable, "cannot check credentials right now: the catalog is unreachable; retry."));
        }
        if (auth.Principal is null)
            await DenyAsync(null, permission.FullName, request, context, operationId, StatusCode.Unauthenticated, auth.Failure);

        var principal = auth.Principal!;
        var decision = Authorizer.Decide(principal, permission, request);
        if (!decision.Allowed)
            await DenyAsync(principal, permission.FullName, request, context, operationId, StatusCode.PermissionDenied, decision.Reason);

        if (permission.Mutating && catalog.Current is { Reachable: false } down)
        {
            logger.LogWarning("Refused {Rpc} by {Principal} (operation {OperationId}): catalog unreachable since {Since:u}; not audited (the audit log is in the catalog)",
                permission.FullName, principal.Display, operationId, down.Since);
            throw new RpcException(new Status(StatusCode.Unavailable, CatalogHealth.CommandsRefused(down)));
        }

        context.UserState[PrincipalKey] = principal;
        // Services that only need a name (decision logs) read it the ASP.NET Core way.
        context.GetHttpContext().User = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, principal.Name), new Claim(ClaimTypes.Role, Roles.Name(principal.Role))], principal.Kind));
        return new AdmittedCall(principal, permission, operationId, generation);
    }

    /// <summary>Runs a stream within the caller's stream limit, cut (UNAUTHENTICATED) if its token is revoked or expires meanwhile.</summary>
    private async Task WithStreamSlotAsync(AdmittedCall call, ServerCallContext context, IMessage? request, Func<ServerCallContext, Task> stream)
    {
        var limit = options.Value.MaxStreamsPerPrincipal;
        var key = call.Principal.LimitKey;
        if (!streams.TryEnter(key, limit))
        {
            await DenyAsync(call.Principal, call.Permission.FullName, request, context, call.OperationId, StatusCode.ResourceExhausted,
                $"{call.Principal.Display} already has {limit} open streams on this silo (ControlPlane:Security:MaxStreamsPerPrincipal); close one first.");
        }
        try
        {
            using var open = revocable.Open(call.Principal, call.TokenGeneration, context.CancellationToken);
            try
            {
                await stream(open is null ? context : new CutCallContext(context, open.Token));
            }
            catch (Exception) when (open?.Reason is not null)
            {
                // The handler saw its token fire (or failed writing after it did): the cut, not its symptom, is the answer.
            }
            if (open?.Reason is { } reason) throw new RpcException(new Status(StatusCode.Unauthenticated, $"{reason}; this stream is closed."));
        }
        finally
        {
            streams.Exit(key);
        }
    }

    private async Task DenyAsync(
        Principal? principal, string rpc, IMessage? request, ServerCallContext context, string operationId, StatusCode code, string message)
    {
        await AppendAsync(new AuditEntry
        {
            Principal = principal?.Display ?? "unauthenticated",
            Rpc = rpc,
            Outcome = AuditOutcome.Denied,
            Target = AuditText.Target(request),
            Arguments = AuditText.Arguments(request),
            Source = context.Peer ?? "",
            Status = StatusName(code),
            Detail = message,
            OperationId = operationId,
        });
        throw new RpcException(new Status(code, message));
    }

    private Task RecordAsync(AdmittedCall call, ServerCallContext context, IMessage? request, string outcome, StatusCode code, string detail) =>
        AppendAsync(new AuditEntry
        {
            Principal = call.Principal.Display,
            Rpc = call.Permission.FullName,
            Outcome = outcome,
            Target = AuditText.Target(request),
            Arguments = AuditText.Arguments(request),
            Source = context.Peer ?? "",
            Status = StatusName(code),
            Detail = detail,
            OperationId = call.OperationId,
        });

    private async Task AppendAsync(AuditEntry entry)
    {
        if (!catalog.IsReachable)
        {
            // Known down: do not make the caller wait for a write that cannot succeed.
            logger.LogError("Audit entry not recorded (catalog unreachable) for {Rpc} by {Principal} ({Outcome}, {Status})",
                entry.Rpc, entry.Principal, entry.Outcome, entry.Status);
            return;
        }
        try
        {
            await audit.AppendAsync(entry, CancellationToken.None);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
        {
            // The answer to the caller must not depend on the audit write; the failure itself must not go unnoticed.
            logger.LogError("Audit append failed for {Rpc} by {Principal} ({Outcome}): {Error}", entry.Rpc, entry.Principal, entry.Outcome, ex.Message);
        }
    }

    /// <summary>NotFound becomes NOT_FOUND, as gRPC spells status codes.</summary>
    public static string StatusName(StatusCode code) =>
        string.Concat(code.ToString().Select((c, i) => i > 0 && char.IsUpper(c) ? "_" + c : c.ToString())).ToUpperInvariant();
}
