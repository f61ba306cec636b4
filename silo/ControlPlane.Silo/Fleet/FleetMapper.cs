using ControlPlane.Grains.Health;
using ControlPlane.Postgres.Health;
using Google.Protobuf.WellKnownTypes;
using Proto = ControlPlane.Protos.V1;

namespace ControlPlane.Silo.Fleet;

/// <summary>Domain records of the fleet to their protobuf messages, in one place.</summary>
internal static class FleetMapper
{
    public static Proto.Tier ToProto(TierSnapshot s)
    {
        var tier = new Proto.Tier
        {
            Environment = s.Environment,
            Name = s.Name,
            Health = ToProto(s.Health),
            HealthReason = s.HealthReason,
            Primary = s.Primary,
            Term = s.Term,
            Version = s.Version,
            UpdatedAt = Timestamp.FromDateTimeOffset(s.UpdatedAt),
            Paused = s.Paused,
            Alert = s.Alert,
            Silo = s.Silo,
            PoolAlert = s.PoolAlert,
            BackupAlert = s.BackupAlert,
        };
        tier.Replicas.AddRange(s.Replicas.Select(r => ToProto(s.Environment, s.Name, r)));
        return tier;
    }

    public static Proto.Replica ToProto(string environment, string tier, ReplicaStatus r)
    {
        var replica = new Proto.Replica
        {
            Environment = environment,
            Tier = tier,
            Name = r.Name,
            Role = r.Role switch
            {
                ReplicaRole.Primary => Proto.ReplicaRole.Primary,
                ReplicaRole.Standby => Proto.ReplicaRole.Standby,
                _ => Proto.ReplicaRole.Unknown,
            },
            Healthy = r.Healthy,
            Reachable = r.Reachable,
            Host = r.Host,
            Port = r.Port,
            LagBytes = r.LagBytes,
            LagSeconds = r.LagSeconds,
            Connections = r.Connections,
            MaxConnections = r.MaxConnections,
            ConsecutiveFailures = r.ConsecutiveFailures,
            Timeline = r.Timeline ?? 0,
            CurrentLsn = Show(r.CurrentLsn),
            ReceiveLsn = Show(r.ReceiveLsn),
            ReplayLsn = Show(r.ReplayLsn),
            WalReceiverStatus = r.WalReceiverStatus ?? "",
            ServerVersion = r.ServerVersion ?? "",
            ProbeLatencyMs = r.ProbeLatencyMs,
            Problem = r.Problem,
            Session = SessionName(r.Session),
            SessionError = r.SessionError ?? "",
            SessionFailures = r.ConsecutiveSessionFailures,
            SessionLatencyMs = r.SessionLatencyMs,
        };
        replica.SynchronousStandbys.AddRange(r.SynchronousStandbys ?? []);
        if (r.LastProbeAt is { } at) replica.LastProbeAt = Timestamp.FromDateTimeOffset(at);
        if (r.SessionCheckedAt is { } checkedAt) replica.SessionCheckedAt = Timestamp.FromDateTimeOffset(checkedAt);
        return replica;
    }

    /// <summary>The fresh-connection outcome as the API spells it (snake case, stable for scripts).</summary>
    public static string SessionName(SessionState outcome) => outcome switch
    {
        SessionState.Opened => "opened",
        SessionState.SessionTimedOut => "session_timed_out",
        SessionState.ConnectTimedOut => "connect_timed_out",
        SessionState.Refused => "refused",
        SessionState.TooManyClients => "too_many_clients",
        SessionState.AuthenticationFailed => "authentication_failed",
        SessionState.Rejected => "rejected",
        SessionState.Failed => "failed",
        _ => "",
    };

    public static Proto.TierEvent Snapshot(TierSnapshot s) => new()
    {
        Kind = Proto.TierEventKind.Snapshot,
        TierName = s.Name,
        Version = s.Version,
        Tier = ToProto(s),
        At = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
    };

    public static Proto.TierEvent Change(TierChanged c)
    {
        var e = new Proto.TierEvent
        {
            Kind = Proto.TierEventKind.Change,
            TierName = c.Snapshot.Name,
            Version = c.Version,
            Tier = ToProto(c.Snapshot),
            At = Timestamp.FromDateTimeOffset(c.Snapshot.UpdatedAt),
        };
        e.Changes.AddRange(c.Changes);
        return e;
    }

    private static Proto.TierHealth ToProto(TierHealth h) => h switch
    {
        TierHealth.Healthy => Proto.TierHealth.Healthy,
        TierHealth.Degraded => Proto.TierHealth.Degraded,
        TierHealth.Down => Proto.TierHealth.Down,
        _ => Proto.TierHealth.Unspecified,
    };

    private static string Show(ulong? lsn) => lsn is { } v ? new Lsn(v).ToString() : "";
}
