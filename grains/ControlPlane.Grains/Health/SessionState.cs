using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Health;

namespace ControlPlane.Grains.Health;

/// <summary>
/// The fresh-connection check's outcome as replica reports and tier snapshots keep it. The Postgres layer's
/// <see cref="SessionOutcome"/> carries no Orleans attributes (that layer knows nothing of Orleans), and grain state
/// needs a version-tolerant type: this mirrors it value for value (a unit test keeps the two in step).
/// </summary>
[GenerateSerializer, Alias("controlplane.SessionState")]
public enum SessionState
{
    NotChecked = 0,
    Opened = 1,
    SessionTimedOut = 2,
    ConnectTimedOut = 3,
    Refused = 4,
    TooManyClients = 5,
    AuthenticationFailed = 6,
    Rejected = 7,
    Failed = 8,
}

/// <summary>Conversions and questions about <see cref="SessionState"/>.</summary>
public static class SessionStates
{
    public static SessionState From(SessionOutcome outcome) => (SessionState)(int)outcome;

    /// <summary>A new client could not get a session for a reason that is the server's or the host's own (see <see cref="SessionCheck.IsCannotOpen"/>).</summary>
    public static bool IsCannotOpen(SessionState state) => SessionCheck.IsCannotOpen((SessionOutcome)(int)state);
}
