using Grpc.Core;
using Grpc.Core.Interceptors;

namespace ControlPlane.Silo.Gateway;

/// <summary>
/// Last line of defence: a handler that throws something other than <see cref="RpcException"/> still answers
/// with a precise status, and the exception (never the request) is logged with an id the client also sees.
/// </summary>
internal sealed class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(
        TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The client went away; nothing to answer.
        }
        catch (Exception ex) when (ex is not RpcException)
        {
            throw Map(ex, context);
        }
    }

    private RpcException Map(Exception ex, ServerCallContext context)
    {
        var (code, message) = ex switch
        {
            ArgumentException a => (StatusCode.InvalidArgument, a.ParamName is null ? a.Message : a.Message.Replace($" (Parameter '{a.ParamName}')", "", StringComparison.Ordinal)),
            ControlPlane.Grains.Failover.TierConflictException c => (StatusCode.FailedPrecondition, c.Message),
            ControlPlane.Grains.Failover.NeedsOperatorException n => (StatusCode.FailedPrecondition, n.Message),
            ControlPlane.Grains.Hosts.NeedsHostSiloException h => (StatusCode.FailedPrecondition, h.Message),
            ControlPlane.Grains.Failover.StaleTermException s => (StatusCode.Unavailable, s.Message + "; retry"),
            KeyNotFoundException k => (StatusCode.NotFound, k.Message),
            TimeoutException => (StatusCode.Unavailable, "the control plane did not answer in time; retry"),
            OperationCanceledException => (StatusCode.Cancelled, "the call was cancelled"),
            Orleans.Runtime.SiloUnavailableException => (StatusCode.Unavailable, "a control plane silo is unavailable; retry"),
            Orleans.Runtime.OrleansMessageRejectionException => (StatusCode.Unavailable, "the control plane is shutting down or moving; retry"),
            _ => (StatusCode.Internal, ""),
        };
        var errorId = Guid.NewGuid().ToString("N")[..12];
        if (code == StatusCode.Internal)
        {
            logger.LogError(ex, "Unhandled error {ErrorId} in {Method}", errorId, context.Method);
            message = $"internal error {errorId}; the silo log has the details";
        }
        else
        {
            logger.LogWarning("{Method} answered {Code} ({ErrorId}): {Message}", context.Method, code, errorId, ex.Message);
        }
        return new RpcException(new Status(code, message));
    }
}
