using System.Diagnostics;
using System.Net.Sockets;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Npgsql;

namespace ControlPlane.Postgres.Health;

/// <summary>What happened when a brand-new client tried to open a session, as a client would.</summary>
public enum SessionOutcome
{
    /// <summary>No check ran with this probe.</summary>
    NotChecked = 0,
    /// <summary>A new session opened (authenticated, ready for a query) within the deadline.</summary>
    Opened = 1,
    /// <summary>The port accepted the TCP connection but no session came back in time: the host lives, the
    /// server takes no new client (a hung postmaster, a full listen backlog).</summary>
    SessionTimedOut = 2,
    /// <summary>Nothing answered the TCP connection in time: the host or the path to it is silent.</summary>
    ConnectTimedOut = 3,
    /// <summary>The port refused the connection (nothing listens): the server is not running.</summary>
    Refused = 4,
    /// <summary>SQLSTATE 53300: every connection slot is taken. Pool pressure, not a dead server.</summary>
    TooManyClients = 5,
    /// <summary>SQLSTATE 28P01 or 28000: the control plane's credentials are refused.</summary>
    AuthenticationFailed = 6,
    /// <summary>The server answered with another error (starting up, shutting down, ...).</summary>
    Rejected = 7,
    /// <summary>The connection broke in another way (reset, protocol error).</summary>
    Failed = 8,
}

/// <summary>One fresh-connection check.</summary>
public sealed record SessionCheck(SessionOutcome Outcome, TimeSpan Latency, string? Error)
{
    public static readonly SessionCheck NotChecked = new(SessionOutcome.NotChecked, TimeSpan.Zero, null);

    /// <summary>A new client could not get a session for a reason that is the server's or the host's own.
    /// Too many clients and refused credentials are not: those servers live and would refuse the same on any primary.</summary>
    public bool CannotOpenSession => IsCannotOpen(Outcome);

    public static bool IsCannotOpen(SessionOutcome outcome) =>
        outcome is SessionOutcome.SessionTimedOut or SessionOutcome.ConnectTimedOut or SessionOutcome.Refused
            or SessionOutcome.Rejected or SessionOutcome.Failed;
}

/// <summary>
/// Opens a brand-new, unpooled session to an instance, as a new client would, under a short deadline. The pooled
/// <see cref="ReplicaProbe"/> reuses its sessions, so a server whose postmaster accepts nothing new (frozen, its
/// listen backlog full) keeps answering it; this check sees what every new client sees.
///
/// It runs in two steps so that the outcome says where it stopped: a bare TCP connect (refused, silent, or accepted
/// by the host's kernel), then a full PostgreSQL session through Npgsql. A TCP connection the kernel accepted but
/// no session on it means the server, not the network path, is the fault. The bare socket is closed before it
/// sends anything, which PostgreSQL drops without logging.
/// </summary>
public sealed class SessionProbe : IAsyncDisposable
{
    public const string ApplicationName = "controlplane-session-probe";

    private readonly ReplicaEndpoint _endpoint;
    private readonly TimeSpan _timeout;
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _password;

    /// <param name="timeout">Deadline of the whole check (TCP connect plus session); keep it under the probe interval.</param>
    public SessionProbe(ReplicaEndpoint endpoint, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _endpoint = endpoint;
        _timeout = timeout;
        _password = SecretFile.Read(endpoint.PasswordFile);
        var seconds = (int)Math.Max(1, Math.Ceiling(timeout.TotalSeconds));
        _dataSource = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder
        {
            Host = endpoint.Host,
            Port = endpoint.Port,
            Database = endpoint.Database,
            Username = endpoint.User,
            Password = _password,
            SslMode = endpoint.TlsMode,
            ApplicationName = ApplicationName,
            // The point of the check: every open is a new server session.
            Pooling = false,
            Timeout = seconds,
            CommandTimeout = seconds,
            CancellationTimeout = -1,
        }.ConnectionString).Build();
    }

    public async Task<SessionCheck> CheckAsync(CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_timeout);
        var tcpAccepted = false;
        try
        {
            using (var socket = new Socket(SocketType.Stream, ProtocolType.Tcp))
            {
                await socket.ConnectAsync(_endpoint.Host, _endpoint.Port, deadline.Token).AsTask().WaitAsync(deadline.Token).ConfigureAwait(false);
                tcpAccepted = true;
            }
            await using var connection = await _dataSource.OpenConnectionAsync(deadline.Token).AsTask().WaitAsync(deadline.Token).ConfigureAwait(false);
            return new SessionCheck(SessionOutcome.Opened, watch.Elapsed, null);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException
                                      || (e is NpgsqlException { InnerException: TimeoutException or OperationCanceledException }))
        {
            return tcpAccepted
                ? new SessionCheck(SessionOutcome.SessionTimedOut, watch.Elapsed, $"connected but no session within {_timeout.TotalSeconds:0.###}s")
                : new SessionCheck(SessionOutcome.ConnectTimedOut, watch.Elapsed, $"no TCP answer within {_timeout.TotalSeconds:0.###}s");
        }
        catch (PostgresException e)
        {
            return new SessionCheck(Classify(e.SqlState), watch.Elapsed, Describe($"{e.SqlState}: {e.MessageText}"));
        }
        catch (Exception e) when (Refused(e))
        {
            return new SessionCheck(SessionOutcome.Refused, watch.Elapsed, "connection refused");
        }
        catch (Exception e) when (e is NpgsqlException or SocketException or IOException or InvalidOperationException)
        {
            return new SessionCheck(SessionOutcome.Failed, watch.Elapsed, Describe(e.Message + (e.InnerException is { } inner ? $" ({inner.Message})" : "")));
        }
    }

    /// <summary>How a server's refusal reads: pressure and credentials are not a dead server.</summary>
    public static SessionOutcome Classify(string sqlState) => sqlState switch
    {
        PostgresErrorCodes.TooManyConnections => SessionOutcome.TooManyClients,
        PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification => SessionOutcome.AuthenticationFailed,
        _ => SessionOutcome.Rejected,
    };

    private static bool Refused(Exception e) =>
        e is SocketException { SocketErrorCode: SocketError.ConnectionRefused }
        || e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused };

    private string Describe(string message)
    {
        if (_password.Length > 0) message = message.Replace(_password, "***", StringComparison.Ordinal);
        return message.Length <= 300 ? message : message[..300];
    }

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    public override string ToString() => $"session probe of {_endpoint.Tier}/{_endpoint.Name} at {_endpoint.Host}:{_endpoint.Port}";
}
