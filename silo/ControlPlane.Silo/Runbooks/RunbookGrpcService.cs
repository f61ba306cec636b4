using ControlPlane.Silo.Gateway;
using ControlPlane.Silo.Hosting;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Runbooks;

/// <summary>Runbooks rendered from live state. Validates kind and tier, asks the renderer, maps back.</summary>
internal sealed class RunbookGrpcService(IClusterClient cluster, RunbookRenderer renderer, IOptions<ControlPlaneOptions> options) : Proto.RunbookService.RunbookServiceBase
{
    private readonly string _defaultEnvironment = options.Value.Environment;

    public override async Task<Proto.Runbook> GetRunbook(Proto.GetRunbookRequest request, ServerCallContext context)
    {
        if (!RunbookKinds.IsKnown(request.Kind))
            throw RequestValidation.Invalid($"kind '{RequestValidation.Shown(request.Kind)}' is not a runbook; expected one of {RunbookKinds.Expected}.");
        var env = RequestValidation.Environment(request.Environment, _defaultEnvironment);
        (env, var tier) = await TierLookup.RequireAsync(cluster, env, RequestValidation.Name("tier", request.Tier));
        RenderedRunbook runbook;
        try
        {
            runbook = await renderer.RenderAsync(env, request.Kind, tier);
        }
        catch (InvalidOperationException e)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, e.Message));
        }
        return new Proto.Runbook
        {
            Environment = runbook.Environment, Tier = runbook.Tier, Kind = runbook.Kind, Title = runbook.Title, Markdown = runbook.Markdown,
            RenderedAt = Timestamp.FromDateTimeOffset(runbook.RenderedAt),
        };
    }
}
