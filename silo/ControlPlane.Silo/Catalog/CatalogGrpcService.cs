using ControlPlane.Silo.Security;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Catalog;

/// <summary>The catalog's status as this silo knows it: memory only, so it answers while the catalog is down.</summary>
internal sealed class CatalogGrpcService(CatalogHealth health, TokenCache tokens, ILocalSiloDetails silo) : Proto.CatalogService.CatalogServiceBase
{
    public override Task<Proto.GetCatalogStatusResponse> GetCatalogStatus(Proto.GetCatalogStatusRequest request, ServerCallContext context)
    {
        var s = health.Current;
        var response = new Proto.GetCatalogStatusResponse
        {
            Reachable = s.Reachable,
            Since = Timestamp.FromDateTimeOffset(s.Since),
            LastError = s.LastError,
            ConsecutiveFailures = s.ConsecutiveFailures,
            Embedded = s.Embedded,
            Endpoint = s.Endpoint,
            Restarts = s.Restarts,
            CrashLoop = s.CrashLoop,
            RecentCrashes = s.RecentCrashes,
            CachedTokens = tokens.Count,
            TokenListenerConnected = tokens.Listening,
            Silo = silo.SiloAddress.ToString(),
        };
        if (s.LastCheck is { } check) response.LastCheck = Timestamp.FromDateTimeOffset(check);
        if (s.LastRestart is { } restart) response.LastRestart = Timestamp.FromDateTimeOffset(restart);
        return Task.FromResult(response);
    }
}
