namespace ControlPlane.Postgres.Fleet;

/// <summary>How the control plane reaches one PostgreSQL instance of a tier.</summary>
/// <param name="PasswordFile">File holding the password of <paramref name="User"/>; the password itself never travels.</param>
/// <param name="DataDirectory">Set for instances on this host (local driver); null for instances reached only over SQL.</param>
public sealed record ReplicaEndpoint(
    string Tier,
    string Name,
    string Host,
    int Port,
    string Database,
    string User,
    string PasswordFile,
    string? DataDirectory)
{
    /// <summary>
    /// Instances the control plane provisions (those with a data directory) admit TCP only over TLS (hostssl lines):
    /// TLS is required there, so a refused login reports its own error (28P01) instead of the plaintext retry's
    /// "no pg_hba.conf entry". Instances reached only over SQL keep Npgsql's default (prefer TLS).
    /// </summary>
    public Npgsql.SslMode TlsMode => DataDirectory is null ? Npgsql.SslMode.Prefer : Npgsql.SslMode.Require;
}

/// <summary>One tier: a primary and its streaming standbys.</summary>
public sealed record TierTopology(string Name, string InitialPrimary, IReadOnlyList<ReplicaEndpoint> Replicas);

/// <summary>Every tier of one environment.</summary>
public sealed record FleetTopology(string Environment, IReadOnlyList<TierTopology> Tiers);
