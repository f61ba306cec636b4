namespace ControlPlane.Grains.Pools;

[GenerateSerializer, Alias("controlplane.LeaseAccess")]
public enum LeaseAccess
{
    ReadWrite = 0,
    ReadOnly = 1,
}

[GenerateSerializer, Alias("controlplane.LeaseState")]
public enum LeaseState
{
    Active = 0,
    Released = 1,
    Expired = 2,
}

/// <summary>A tenant's share of one tier: weight above the minimums, guaranteed minimum, hard maximum.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TenantPlan")]
public sealed record TenantPlan(
    [property: Id(0)] string Tier,
    [property: Id(1)] int Weight,
    [property: Id(2)] int Min,
    [property: Id(3)] int Max)
{
    public const int MaxWeight = 1000;
    public const int MaxConnections = 10_000;

    /// <summary>The problems with this plan, each naming the field, the value and what was expected; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Weight is < 1 or > MaxWeight) errors.Add($"weight {Weight} is out of range; expected 1 to {MaxWeight}.");
        if (Min is < 0 or > MaxConnections) errors.Add($"min {Min} is out of range; expected 0 to {MaxConnections}.");
        if (Max is < 1 or > MaxConnections) errors.Add($"max {Max} is out of range; expected 1 to {MaxConnections}.");
        else if (Max < Min) errors.Add($"max {Max} is below min {Min}; expected max >= min.");
        return errors;
    }
}

[GenerateSerializer, Immutable, Alias("controlplane.TenantRecord")]
public sealed record TenantRecord(
    [property: Id(0)] string Name,
    [property: Id(1)] IReadOnlyList<TenantPlan> Plans,
    [property: Id(2)] DateTimeOffset CreatedAt)
{
    public TenantPlan? PlanFor(string tier) => Plans.FirstOrDefault(p => p.Tier == tier);
}

/// <summary>One service's pool on one tier: what it asked for, what it holds, until when.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.LeaseRecord")]
public sealed record LeaseRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] string Tier,
    [property: Id(2)] string Tenant,
    [property: Id(3)] string Service,
    [property: Id(4)] int Requested,
    [property: Id(5)] LeaseAccess Access,
    [property: Id(6)] int Granted,
    [property: Id(7)] TimeSpan Ttl,
    [property: Id(8)] DateTimeOffset AcquiredAt,
    [property: Id(9)] DateTimeOffset ExpiresAt,
    [property: Id(10)] LeaseState State,
    [property: Id(11)] long Version)
{
    /// <summary>application_name prefix of the holder's connections: "cp:&lt;lease id&gt;:&lt;service&gt;" (at most 63 bytes).</summary>
    public string Tag => LeaseTags.For(Id, Service);

    public static bool TryParseId(string? id, out string tier, out string tenant)
    {
        tier = tenant = "";
        var parts = id?.Split('.') ?? [];
        if (parts.Length != 3 || !Fleet.FleetKeys.IsValidName(parts[0]) || !Fleet.FleetKeys.IsValidName(parts[1])
            || !long.TryParse(parts[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            return false;
        tier = parts[0];
        tenant = parts[1];
        return true;
    }
}

/// <summary>The lease tag convention shared by the client library and the sampler.</summary>
public static class LeaseTags
{
    public const string Prefix = "cp:";

    /// <summary>PostgreSQL truncates application_name to 63 bytes (NAMEDATALEN - 1); the lease id must survive it.</summary>
    public const int MaxLength = 63;

    public static string For(string leaseId, string service)
    {
        var tag = $"{Prefix}{leaseId}:{service}";
        return tag.Length <= MaxLength ? tag : tag[..MaxLength];
    }

    /// <summary>The lease id inside an application_name, or null when it carries no tag.</summary>
    public static string? LeaseIdOf(string? applicationName)
    {
        if (applicationName is null || !applicationName.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        var rest = applicationName[Prefix.Length..];
        var end = rest.IndexOf(':', StringComparison.Ordinal);
        return end <= 0 ? null : rest[..end];
    }
}

/// <summary>What a tier's pool settings are: headroom, reserves, TTL bounds, leak thresholds and policy.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.PoolSettings")]
public sealed record PoolSettings(
    [property: Id(0)] int HeadroomPercent = 10,
    [property: Id(1)] int ControlPlaneReserve = 5,
    [property: Id(2)] int DefaultTtlSeconds = 30,
    [property: Id(3)] int MaxTtlSeconds = 600,
    [property: Id(4)] int LeakSuspectSeconds = 30,
    [property: Id(5)] int TerminateIdleInTransactionSeconds = 0)
{
    public const int MinTtlSeconds = 5;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (HeadroomPercent is < 0 or > 50) errors.Add($"headroom_percent {HeadroomPercent} is out of range; expected 0 to 50.");
        if (ControlPlaneReserve is < 0 or > 100) errors.Add($"control_plane_reserve {ControlPlaneReserve} is out of range; expected 0 to 100.");
        if (MaxTtlSeconds is < MinTtlSeconds or > 86_400) errors.Add($"max_ttl_seconds {MaxTtlSeconds} is out of range; expected {MinTtlSeconds} to 86400.");
        if (DefaultTtlSeconds < MinTtlSeconds || DefaultTtlSeconds > MaxTtlSeconds)
            errors.Add($"default_ttl_seconds {DefaultTtlSeconds} is out of range; expected {MinTtlSeconds} to max_ttl_seconds {MaxTtlSeconds}.");
        if (LeakSuspectSeconds is < 1 or > 86_400) errors.Add($"leak_suspect_seconds {LeakSuspectSeconds} is out of range; expected 1 to 86400.");
        if (TerminateIdleInTransactionSeconds is < 0 or > 86_400)
            errors.Add($"terminate_idle_in_transaction_seconds {TerminateIdleInTransactionSeconds} is out of range; expected 0 (off) to 86400.");
        return errors;
    }
}

/// <summary>
/// The client library's own view of one lease's pool; the open counts and waits cover the interval since its previous
/// report.
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.PoolStatsReport")]
public sealed record PoolStatsReport(
    [property: Id(0)] int InUse,
    [property: Id(1)] int Idle,
    [property: Id(2)] int Waiting,
    [property: Id(3)] DateTimeOffset At,
    [property: Id(4)] int Opens = 0,
    [property: Id(5)] double OpenWaitMaxSeconds = 0,
    [property: Id(6)] double OpenWaitTotalSeconds = 0);

/// <summary>Per lease, what the last sample of its replica saw.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.LeaseUsage")]
public sealed record LeaseUsage(
    [property: Id(0)] int Connections,
    [property: Id(1)] int IdleInTransaction,
    [property: Id(2)] double LongestIdleInTransactionSeconds,
    [property: Id(3)] int LeakSuspects,
    [property: Id(4)] double LongestHeldSeconds);

[GenerateSerializer, Alias("controlplane.PoolDecisionKind")]
public enum PoolDecisionKind
{
    Rebalance = 0,
    Refusal = 1,
    Alert = 2,
    Terminate = 3,
    Settings = 4,
    Expiry = 5,
}

[GenerateSerializer, Immutable, Alias("controlplane.PoolDecision")]
public sealed record PoolDecision(
    [property: Id(0)] long Sequence,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] PoolDecisionKind Kind,
    [property: Id(3)] string Reason,
    [property: Id(4)] IReadOnlyList<string> Details,
    [property: Id(5)] string Principal);

[GenerateSerializer, Immutable, Alias("controlplane.TenantBudget")]
public sealed record TenantBudget(
    [property: Id(0)] string Tenant,
    [property: Id(1)] int Granted,
    [property: Id(2)] int InUse,
    [property: Id(3)] int Idle,
    [property: Id(4)] int Waiting,
    [property: Id(5)] int Overruns,
    [property: Id(6)] int LeakSuspects,
    [property: Id(7)] int Leases,
    [property: Id(8)] int Connections,
    [property: Id(9)] TenantPlan? Plan,
    [property: Id(10)] double OpenWaitMaxSeconds = 0,
    [property: Id(11)] double OpenWaitMeanSeconds = 0);

[GenerateSerializer, Immutable, Alias("controlplane.PoolBudget")]
public sealed record PoolBudget(
    [property: Id(0)] string Environment,
    [property: Id(1)] string Tier,
    [property: Id(2)] int Capacity,
    [property: Id(3)] int ReadOnlyCapacity,
    [property: Id(4)] int Unmanaged,
    [property: Id(5)] IReadOnlyList<TenantBudget> Tenants,
    [property: Id(6)] IReadOnlyList<string> Alerts,
    [property: Id(7)] string Primary,
    [property: Id(8)] DateTimeOffset? SampledAt,
    [property: Id(9)] PoolSettings Settings,
    [property: Id(10)] int MaxConnections);

/// <summary>A lease as the gateway shows it: the record plus its last observed usage.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.LeaseView")]
public sealed record LeaseView(
    [property: Id(0)] LeaseRecord Lease,
    [property: Id(1)] LeaseUsage? Usage);
