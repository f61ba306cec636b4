namespace ControlPlane.Grains.Health;

/// <summary>Health of a tier as a whole.</summary>
[GenerateSerializer, Alias("controlplane.TierHealth")]
public enum TierHealth
{
    Unknown = 0,
    /// <summary>Primary writable and every standby streaming.</summary>
    Healthy = 1,
    /// <summary>Primary writable, at least one standby unhealthy.</summary>
    Degraded = 2,
    /// <summary>No reachable, writable primary.</summary>
    Down = 3,
}

/// <summary>The replicas a tier is made of, and which one it starts with as primary.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TierSpec")]
public sealed record TierSpec(
    [property: Id(0)] string Environment,
    [property: Id(1)] string Name,
    [property: Id(2)] string InitialPrimary,
    [property: Id(3)] IReadOnlyList<ReplicaSpec> Replicas);

/// <summary>A tier at one version: what watchers receive and <c>GetTier</c> answers.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TierSnapshot")]
public sealed record TierSnapshot(
    [property: Id(0)] string Environment,
    [property: Id(1)] string Name,
    [property: Id(2)] TierHealth Health,
    [property: Id(3)] string HealthReason,
    [property: Id(4)] string Primary,
    [property: Id(5)] long Term,
    [property: Id(6)] long Version,
    [property: Id(7)] IReadOnlyList<ReplicaStatus> Replicas,
    [property: Id(8)] DateTimeOffset UpdatedAt,
    [property: Id(9)] bool Paused = false,
    [property: Id(10)] string Alert = "",
    [property: Id(11)] string Silo = "",
    [property: Id(12)] string PoolAlert = "",
    [property: Id(13)] string BackupAlert = "");

/// <summary>Published on the tier's stream after every change, in version order.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TierChanged")]
public sealed record TierChanged(
    [property: Id(0)] long Version,
    [property: Id(1)] IReadOnlyList<string> Changes,
    [property: Id(2)] TierSnapshot Snapshot);
