using ControlPlane.Client.Fleet;
using ControlPlane.Client.Security;
using ControlPlane.Protos.V1;
using Grpc.Net.Client;

namespace ControlPlane.Client;

/// <summary>
/// A connection to the control plane's gRPC gateway: one HTTP/2 channel (h2c for http://,
/// TLS for https://) shared by the typed service clients it exposes. Create one per process
/// and dispose it with its owner; the clients are thread-safe.
/// </summary>
public sealed class ControlPlaneClient : IDisposable
{
    private readonly GrpcChannel channel;

    /// <summary>Connects to <paramref name="endpoint"/>, an absolute http or https URL.</summary>
    public ControlPlaneClient(Uri endpoint, ControlPlaneClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Endpoint = ControlPlaneEndpoint.Parse(endpoint.OriginalString, nameof(endpoint));
        options ??= new ControlPlaneClientOptions();

        var handler = new SocketsHttpHandler
        {
            KeepAlivePingDelay = options.KeepAlivePingDelay,
            KeepAlivePingTimeout = options.KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            ConnectTimeout = options.ConnectTimeout,
            SslOptions = { ClientCertificates = options.ClientCertificate is null ? null : [options.ClientCertificate] },
            // Many concurrent watches would otherwise queue behind the server's stream limit.
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };

        channel = GrpcChannel.ForAddress(Endpoint, new GrpcChannelOptions
        {
            // The token rides on every request of the channel, whichever service client sends it.
            HttpHandler = BearerTokenHandler.Wrap(handler, options.Token),
            DisposeHttpClient = true,
            MaxReceiveMessageSize = options.MaxReceiveMessageSize,
            MaxSendMessageSize = options.MaxSendMessageSize,
            // ThrowOperationCanceledOnCancellation stays off: with it on, a streaming call that fails
            // to connect surfaces as a bare TaskCanceledException instead of UNAVAILABLE
            // (Grpc.Net.Client 2.85), and callers could no longer tell "unreachable" from "cancelled".
        });

        Fleet = new FleetService.FleetServiceClient(channel);
        Security = new SecurityService.SecurityServiceClient(channel);
        Failover = new FailoverService.FailoverServiceClient(channel);
        Pools = new PoolService.PoolServiceClient(channel);
        Backups = new BackupService.BackupServiceClient(channel);
        Catalog = new CatalogService.CatalogServiceClient(channel);
        Tenants = new TenantService.TenantServiceClient(channel);
        Changes = new ChangeService.ChangeServiceClient(channel);
        Monitoring = new MonitoringService.MonitoringServiceClient(channel);
        Alerts = new AlertService.AlertServiceClient(channel);
        CallInvoker = channel.CreateCallInvoker();
    }

    /// <summary>Resolves the endpoint as <see cref="ControlPlaneEndpoint.Resolve(string?)"/> does, then connects.</summary>
    public static ControlPlaneClient Create(string? endpoint = null, ControlPlaneClientOptions? options = null) =>
        new(ControlPlaneEndpoint.Resolve(endpoint), options);

    /// <summary>The gateway this client talks to.</summary>
    public Uri Endpoint { get; }

    /// <summary>Tiers and replicas: queries and watches.</summary>
    public FleetService.FleetServiceClient Fleet { get; }

    /// <summary>Tokens, who-am-I and the audit log.</summary>
    public SecurityService.SecurityServiceClient Security { get; }

    /// <summary>Switchover, failover, pause/resume, decision log, HA settings and routing.</summary>
    public FailoverService.FailoverServiceClient Failover { get; }

    /// <summary>Tenants and their plans, pool leases and budgets (see <see cref="Pools.ControlPlaneDataSource"/>).</summary>
    public PoolService.PoolServiceClient Pools { get; }

    /// <summary>Backup policy, base backups, WAL archive, point-in-time restores, drills, retention and tenant exports.</summary>
    public BackupService.BackupServiceClient Backups { get; }

    /// <summary>The control plane's own catalog: reachability, supervision, token cache.</summary>
    public CatalogService.CatalogServiceClient Catalog { get; }

    /// <summary>The tenant lifecycle: register, suspend, resume, erase, watch.</summary>
    public TenantService.TenantServiceClient Tenants { get; }

    /// <summary>Schema change requests: submit, approve, rollout, halt, resume, rollback, tag, watch.</summary>
    public ChangeService.ChangeServiceClient Changes { get; }

    /// <summary>Performance reports (top statements, regressions, index advice, lock chains) and metric histories.</summary>
    public MonitoringService.MonitoringServiceClient Monitoring { get; }

    /// <summary>Alert rules, silences, active alerts, their history and watch stream, the webhook.</summary>
    public AlertService.AlertServiceClient Alerts { get; }

    /// <summary>The channel's invoker (token included), for service clients without a property here.</summary>
    public Grpc.Core.CallInvoker CallInvoker { get; }

    /// <summary>Follows one tier, surviving version gaps and silo restarts.</summary>
    public TierWatch WatchTiers(string environment = "", TierWatchOptions? options = null) =>
        new(Fleet, environment, options);

    public void Dispose() => channel.Dispose();
}
