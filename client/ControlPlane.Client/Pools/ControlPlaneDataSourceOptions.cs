using Npgsql;

namespace ControlPlane.Client.Pools;

/// <summary>What a <see cref="ControlPlaneDataSource"/> is for, and how it connects.</summary>
public sealed record ControlPlaneDataSourceOptions
{
    /// <summary>Environment; empty means the control plane's default.</summary>
    public string Environment { get; init; } = "";

    public required string Tier { get; init; }

    public required string Tenant { get; init; }

    /// <summary>The service holding the pool; appears in the lease tag and in <c>cpctl lease list</c>.</summary>
    public required string Service { get; init; }

    /// <summary>
    /// Credentials and session settings (user, password, database, timeouts). The control plane hands out
    /// endpoints and budgets, never passwords: host, port, pool size and application_name are set from the lease
    /// and the routing, whatever the template says.
    /// </summary>
    public required NpgsqlConnectionStringBuilder Connection { get; init; }

    /// <summary>Pool size asked for; the grant may be smaller, and may change while the lease lives.</summary>
    public int Requested { get; init; } = 10;

    /// <summary>Lease TTL; null takes the tier's default. Renewed at a third of it.</summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary>When set, <see cref="ControlPlaneDataSource.OpenReadOnlyConnectionAsync"/> uses a standby no further
    /// behind than this (on a read-only lease of its own); otherwise reads go to the primary.</summary>
    public TimeSpan? ReadOnlyMaxLag { get; init; }

    /// <summary>How often the pool's statistics go to the control plane.</summary>
    public TimeSpan StatsInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long an open may keep retrying while the primary is away (a failover takes seconds).</summary>
    public TimeSpan OpenRetryBudget { get; init; } = TimeSpan.FromSeconds(30);
}
