using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;

namespace ControlPlane.IntegrationTests.Security;

/// <summary>Calls any RPC of the protos by its descriptor, so tests cover every RPC that exists, including ones added later.</summary>
internal static class DynamicRpc
{
    /// <summary>Every method of every controlplane.v1 service, from each *Reflection.Descriptor of the protos assembly.</summary>
    public static IReadOnlyList<MethodDescriptor> AllMethods() =>
        typeof(ControlPlane.Protos.V1.PermissionsReflection).Assembly.GetTypes()
            .Where(t => t.Namespace == "ControlPlane.Protos.V1" && t.Name.EndsWith("Reflection", StringComparison.Ordinal))
            .Select(t => t.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)?.GetValue(null))
            .OfType<FileDescriptor>()
            .Where(f => f.Package == "controlplane.v1")
            .SelectMany(f => f.Services)
            .SelectMany(s => s.Methods)
            .OrderBy(m => m.FullName, StringComparer.Ordinal)
            .ToList();

    public static IMessage Empty(MethodDescriptor method) => method.InputType.Parser.ParseFrom(ByteString.Empty);

    /// <summary>The status the call ended with (OK when a unary call answered or a stream produced a message or stayed open).</summary>
    public static async Task<Status> CallAsync(CallInvoker invoker, MethodDescriptor method, IMessage request, TimeSpan timeout)
    {
        var requestMarshaller = Marshallers.Create<IMessage>(m => m.ToByteArray(), b => method.InputType.Parser.ParseFrom(b));
        var responseMarshaller = Marshallers.Create<IMessage>(m => m.ToByteArray(), b => method.OutputType.Parser.ParseFrom(b));
        var type = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (false, true) => MethodType.ServerStreaming,
            (true, false) => MethodType.ClientStreaming,
            _ => MethodType.DuplexStreaming,
        };
        var rpc = new Method<IMessage, IMessage>(type, method.Service.FullName, method.Name, requestMarshaller, responseMarshaller);
        using var cts = new CancellationTokenSource(timeout);
        var options = new CallOptions(deadline: DateTime.UtcNow + timeout + TimeSpan.FromSeconds(5), cancellationToken: cts.Token);
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(rpc, null, options, request).ResponseAsync;
                    return Status.DefaultSuccess;
                case MethodType.ServerStreaming:
                    using (var call = invoker.AsyncServerStreamingCall(rpc, null, options, request))
                    {
                        await call.ResponseStream.MoveNext(cts.Token);
                    }
                    return Status.DefaultSuccess;
                default:
                    using (var call = invoker.AsyncDuplexStreamingCall(rpc, null, options))
                    {
                        await call.RequestStream.WriteAsync(request, cts.Token);
                        await call.RequestStream.CompleteAsync();
                        await call.ResponseStream.MoveNext(cts.Token);
                    }
                    return Status.DefaultSuccess;
            }
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cts.IsCancellationRequested)
        {
            // A stream that was let in and stayed open until we stopped waiting.
            return Status.DefaultSuccess;
        }
        catch (RpcException e)
        {
            return e.Status;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return Status.DefaultSuccess;
        }
    }
}
