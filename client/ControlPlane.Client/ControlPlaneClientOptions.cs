namespace ControlPlane.Client;

/// <summary>Transport settings of a <see cref="ControlPlaneClient"/>.</summary>
public sealed record ControlPlaneClientOptions
{
    /// <summary>
    /// Idle time after which the client pings the server. Watches stay open for hours with
    /// no traffic when the fleet is quiet; pings keep NATs and proxies from dropping them and
    /// detect a dead silo long before TCP would.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a ping may go unanswered before the connection is declared dead.</summary>
    public TimeSpan KeepAlivePingTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Limit on the TCP/TLS connect, so an unreachable silo fails fast instead of hanging.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest response accepted; a fleet listing of many tiers is well under this.</summary>
    public int MaxReceiveMessageSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// Bearer token sent as "authorization: Bearer ..." on every call; null sends none.
    /// <see cref="Security.ControlPlaneToken.Resolve(string?, string?)"/> finds one the way cpctl does.
    /// </summary>
    public string? Token { get; init; }

    /// <summary>Client certificate (with its private key) presented on https:// endpoints that ask for one.</summary>
    public System.Security.Cryptography.X509Certificates.X509Certificate2? ClientCertificate { get; init; }

    /// <summary>Largest request sent (schema change files are the largest requests).</summary>
    public int MaxSendMessageSize { get; init; } = 16 * 1024 * 1024;
}
