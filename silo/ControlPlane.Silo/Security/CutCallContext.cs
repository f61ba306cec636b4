using Grpc.Core;

namespace ControlPlane.Silo.Security;

/// <summary>
/// The call's context with a cancellation token the gateway can fire itself: a stream handler loops until its
/// context's token fires, so handing it this one lets <see cref="RevocableStreams"/> end a watch whose token was
/// revoked. Everything else is the call's own.
/// </summary>
internal sealed class CutCallContext : ServerCallContext
{
    // grpc-dotnet's GetHttpContext() looks here when the context is not its own type.
    private const string HttpContextKey = "__HttpContext";

    private readonly ServerCallContext _inner;
    private readonly CancellationToken _token;

    public CutCallContext(ServerCallContext inner, CancellationToken token)
    {
        _inner = inner;
        _token = token;
        inner.UserState[HttpContextKey] = inner.GetHttpContext();
    }

    protected override string MethodCore => _inner.Method;
    protected override string HostCore => _inner.Host;
    protected override string PeerCore => _inner.Peer;
    protected override DateTime DeadlineCore => _inner.Deadline;
    protected override Metadata RequestHeadersCore => _inner.RequestHeaders;
    protected override CancellationToken CancellationTokenCore => _token;
    protected override Metadata ResponseTrailersCore => _inner.ResponseTrailers;
    protected override AuthContext AuthContextCore => _inner.AuthContext;
    protected override IDictionary<object, object> UserStateCore => _inner.UserState;

    protected override Status StatusCore
    {
        get => _inner.Status;
        set => _inner.Status = value;
    }

    protected override WriteOptions? WriteOptionsCore
    {
        get => _inner.WriteOptions;
        set => _inner.WriteOptions = value;
    }

    protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
        _inner.CreatePropagationToken(options);

    protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => _inner.WriteResponseHeadersAsync(responseHeaders);
}
