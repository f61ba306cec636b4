using System.Globalization;
using ControlPlane.Grains.Security;
using ControlPlane.Silo.Gateway;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Security;

/// <summary>Tokens, who-am-I and the audit log. Permissions are checked by <see cref="SecurityInterceptor"/> before any of this runs.</summary>
internal sealed class SecurityGrpcService(TokenStore tokens, CatalogAuditLog audit, TimeProvider clock) : Proto.SecurityService.SecurityServiceBase
{
    private const int MaxTenantsPerToken = 100;
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(3650);

    public override async Task<Proto.CreateTokenResponse> CreateToken(Proto.CreateTokenRequest request, ServerCallContext context)
    {
        var name = RequestValidation.Name("name", request.Name);
        if (request.Role is not (Proto.Role.Viewer or Proto.Role.Operator or Proto.Role.Admin))
            throw RequestValidation.Invalid($"role is {request.Role}; expected ROLE_VIEWER, ROLE_OPERATOR or ROLE_ADMIN.");
        if (request.Tenants.Count > MaxTenantsPerToken)
            throw RequestValidation.Invalid($"tenants has {request.Tenants.Count} entries; expected at most {MaxTenantsPerToken}.");
        var tenants = request.Tenants.Select((t, i) => RequestValidation.Name($"tenants[{i}]", t)).Distinct(StringComparer.Ordinal).ToList();
        DateTimeOffset? expiresAt = request.ExpiresIn is null ? null : clock.GetUtcNow() + Lifetime(request.ExpiresIn);

        var creator = SecurityInterceptor.PrincipalOf(context);
        var issued = await tokens.CreateAsync(name, request.Role, tenants, expiresAt, creator.Display, context.CancellationToken);
        var record = await tokens.FindAsync(issued.Id, context.CancellationToken)
            ?? throw new RpcException(new Status(StatusCode.Unavailable, "the token was created but could not be read back; list tokens and retry."));
        return new Proto.CreateTokenResponse { Info = ToProto(record), Token = issued.Token };
    }

    public override async Task<Proto.ListTokensResponse> ListTokens(Proto.ListTokensRequest request, ServerCallContext context)
    {
        var response = new Proto.ListTokensResponse();
        response.Tokens.AddRange((await tokens.ListAsync(request.IncludeInactive, context.CancellationToken)).Select(ToProto));
        return response;
    }

    public override async Task<Proto.TokenInfo> RevokeToken(Proto.RevokeTokenRequest request, ServerCallContext context)
    {
        if (!BearerToken.IsId(request.Id))
            throw RequestValidation.Invalid($"id '{RequestValidation.Shown(request.Id)}' is invalid; expected the token's 16 lower-case hex digits (see cpctl token list).");
        var by = SecurityInterceptor.PrincipalOf(context).Display;
        var record = await tokens.RevokeAsync(request.Id, by, context.CancellationToken)
            ?? throw RequestValidation.NotFound($"token '{request.Id}' not found.");
        return ToProto(record);
    }

    public override Task<Proto.WhoAmIResponse> WhoAmI(Proto.WhoAmIRequest request, ServerCallContext context)
    {
        var principal = SecurityInterceptor.PrincipalOf(context);
        var response = new Proto.WhoAmIResponse { Principal = principal.Name, Role = principal.Role, Kind = principal.Kind, TokenId = principal.TokenId };
        response.Tenants.AddRange(principal.Tenants);
        return Task.FromResult(response);
    }

    public override async Task<Proto.ListAuditEventsResponse> ListAuditEvents(Proto.ListAuditEventsRequest request, ServerCallContext context)
    {
        var since = request.Since is null ? (DateTimeOffset?)null : Time("since", request.Since);
        var until = request.Until is null ? (DateTimeOffset?)null : Time("until", request.Until);
        if (since is { } s && until is { } u && s >= u)
            throw RequestValidation.Invalid($"since ({s:u}) must be before until ({u:u}).");
        var principal = Bounded("principal", request.Principal, 200);
        var target = Bounded("target", request.Target, 400);
        if (request.Outcome is not ("" or AuditOutcome.Ok or AuditOutcome.Denied or AuditOutcome.Failed))
            throw RequestValidation.Invalid($"outcome '{RequestValidation.Shown(request.Outcome)}' is invalid; expected ok, denied, failed or empty.");
        if (request.PageSize is < 0 or > 1000)
            throw RequestValidation.Invalid($"page_size is {request.PageSize}; expected 1 to 1000 (0 means 100).");
        var size = request.PageSize == 0 ? 100 : request.PageSize;
        long before = 0;
        if (request.PageToken.Length > 0 && (!long.TryParse(request.PageToken, NumberStyles.None, CultureInfo.InvariantCulture, out before) || before <= 0))
            throw RequestValidation.Invalid($"page_token '{RequestValidation.Shown(request.PageToken)}' is invalid; pass next_page_token from the previous page.");

        var events = await audit.ListAsync(
            new AuditQuery(since, until, principal, target, request.Outcome, size + 1, before), context.CancellationToken);
        var response = new Proto.ListAuditEventsResponse();
        response.Events.AddRange(events.Take(size).Select(e => new Proto.AuditEvent
        {
            Id = e.Id,
            At = Timestamp.FromDateTimeOffset(e.At),
            Principal = e.Principal,
            Source = e.Source,
            Rpc = e.Rpc,
            Target = e.Target,
            Arguments = e.Arguments,
            Outcome = e.Outcome,
            Status = e.Status,
            Detail = e.Detail,
            OperationId = e.OperationId,
        }));
        if (events.Count > size) response.NextPageToken = events[size - 1].Id.ToString(CultureInfo.InvariantCulture);
        return response;
    }

    internal static Proto.TokenInfo ToProto(TokenRecord record)
    {
        var info = new Proto.TokenInfo
        {
            Id = record.Id,
            Name = record.Name,
            Role = record.Role,
            CreatedAt = Timestamp.FromDateTimeOffset(record.CreatedAt),
            CreatedBy = record.CreatedBy,
            RevokedBy = record.RevokedBy ?? "",
        };
        info.Tenants.AddRange(record.Tenants);
        if (record.ExpiresAt is { } expires) info.ExpiresAt = Timestamp.FromDateTimeOffset(expires);
        if (record.RevokedAt is { } revoked) info.RevokedAt = Timestamp.FromDateTimeOffset(revoked);
        return info;
    }

    private static TimeSpan Lifetime(Duration duration)
    {
        // Checked by hand: Duration.ToTimeSpan throws on out-of-range values, which would surface as INTERNAL.
        if (duration.Nanos is < -999_999_999 or > 999_999_999 || duration.Seconds <= 0 || duration.Seconds > (long)MaxLifetime.TotalSeconds)
            throw RequestValidation.Invalid($"expires_in is {duration.Seconds}s; expected 1 second to {MaxLifetime.TotalDays:0} days.");
        return TimeSpan.FromSeconds(duration.Seconds);
    }

    private static DateTimeOffset Time(string field, Timestamp value)
    {
        // 0001-01-01 to 9999-12-31, the range protobuf timestamps (and .NET) can represent.
        if (value.Seconds is < -62_135_596_800 or > 253_402_300_799 || value.Nanos is < 0 or > 999_999_999)
            throw RequestValidation.Invalid($"{field} is out of range (seconds {value.Seconds}, nanos {value.Nanos}); expected a time between years 1 and 9999.");
        return value.ToDateTimeOffset();
    }

    private static string Bounded(string field, string value, int max)
    {
        if (value.Length > max)
            throw RequestValidation.Invalid($"{field} is {value.Length} characters long; expected at most {max}.");
        if (value.Any(char.IsControl))
            throw RequestValidation.Invalid($"{field} '{RequestValidation.Shown(value)}' contains control characters.");
        return value;
    }
}
