using ControlPlane.Grains.Pools;

namespace ControlPlane.Grains.Tenants;

/// <summary>Where a tenant is in its life. Registering, moving and erasing are step machines in progress.</summary>
[GenerateSerializer, Alias("controlplane.TenantLifecycle")]
public enum TenantLifecycle
{
    Registering = 0,
    Active = 1,
    Suspended = 2,
    Moving = 3,
    Erasing = 4,
    Erased = 5,
}

/// <summary>How a tenant's data lives on a tier.</summary>
[GenerateSerializer, Alias("controlplane.PlacementKind")]
public enum PlacementKind
{
    /// <summary>Its own schema <c>tenant_&lt;name&gt;</c>, reachable only by its own role.</summary>
    Schema = 0,

    /// <summary>Rows of the tier's shared tables (schema <c>tenant_shared</c>) keyed by <c>tenant_id</c>, guarded by RLS policies bound to its role.</summary>
    Shared = 1,
}

/// <summary>A tenant's data on one tier: the kind, and the login role (and its password file) the tenant's application uses.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TenantPlacement")]
public sealed record TenantPlacement(
    [property: Id(0)] string Tier,
    [property: Id(1)] PlacementKind Kind,
    [property: Id(2)] string Role = "",
    [property: Id(3)] string PasswordFile = "");

/// <summary>What one step of a tenant operation does. Every step is idempotent, so a step repeated after a crash is harmless.</summary>
[GenerateSerializer, Alias("controlplane.TenantStepKind")]
public enum TenantStepKind
{
    /// <summary>Role, schema or RLS policies, grants, on the tier's primary.</summary>
    Provision = 0,

    /// <summary>The tenant's entry in the environment's index (state and plans the pools read).</summary>
    Index = 1,

    /// <summary>Plans pushed to (or withdrawn from) the tier's pool; withdrawing revokes the tenant's leases.</summary>
    Pools = 2,

    /// <summary>Role NOLOGIN and the role's sessions terminated.</summary>
    Lock = 3,

    /// <summary>Role LOGIN again.</summary>
    Unlock = 4,

    /// <summary>Schema or rows, policies and role dropped; the tier's report recorded.</summary>
    Drop = 5,

    /// <summary>The target state reached.</summary>
    Finish = 6,

    /// <summary>The tenant's declared personal-data columns on the tier replaced by pseudonyms, verified and journalled on the tier.</summary>
    Anonymise = 7,
}

[GenerateSerializer, Immutable, Alias("controlplane.TenantStep")]
public sealed record TenantStep(
    [property: Id(0)] TenantStepKind Kind,
    [property: Id(1)] string Tier = "");

/// <summary>What an operator asked of a tenant.</summary>
[GenerateSerializer, Alias("controlplane.TenantCommand")]
public enum TenantCommand
{
    Register = 0,
    Suspend = 1,
    Resume = 2,
    Erase = 3,
    Anonymise = 4,
}

/// <summary>
/// A lifecycle operation in progress: its steps and how far it got. Persisted before the first step runs and after
/// each one, so a new activation (after a silo crash) continues at <see cref="Next"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.TenantOperation")]
public sealed record TenantOperation(
    [property: Id(0)] string Id,
    [property: Id(1)] TenantCommand Command,
    [property: Id(2)] TenantLifecycle Target,
    [property: Id(3)] IReadOnlyList<TenantStep> Steps,
    [property: Id(4)] int Next,
    [property: Id(5)] string Principal,
    [property: Id(6)] DateTimeOffset StartedAt,
    [property: Id(7)] string LastError = "",
    [property: Id(8)] int Attempts = 0,
    [property: Id(9)] string Reason = "")
{
    public bool Done => Next >= Steps.Count;

    /// <summary>The step to run next; null when done.</summary>
    public TenantStep? CurrentStep() => Done ? null : Steps[Next];
}

/// <summary>One line of a tenant's history: a state change, or a step that failed.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TenantHistoryEntry")]
public sealed record TenantHistoryEntry(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] TenantLifecycle State,
    [property: Id(2)] string Event,
    [property: Id(3)] string Principal);

/// <summary>Rows of one table of the tenant before and after an erase.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TenantTableRows")]
public sealed record TenantTableRows(
    [property: Id(0)] string Table,
    [property: Id(1)] long Before,
    [property: Id(2)] long After);

/// <summary>What an erase removed on one tier, and what the verification queries found afterwards.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TierEraseReport")]
public sealed record TierEraseReport(
    [property: Id(0)] string Tier,
    [property: Id(1)] string Replica,
    [property: Id(2)] IReadOnlyList<string> Removed,
    [property: Id(3)] IReadOnlyList<TenantTableRows> Rows,
    [property: Id(4)] bool SchemaRemains,
    [property: Id(5)] bool RoleRemains,
    [property: Id(6)] long RowsRemaining);

/// <summary>The erase report: per tier, and a SHA-256 digest over its canonical text so a copy can be checked.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TenantEraseReport")]
public sealed record TenantEraseReport(
    [property: Id(0)] string Tenant,
    [property: Id(1)] DateTimeOffset CompletedAt,
    [property: Id(2)] IReadOnlyList<TierEraseReport> Tiers,
    [property: Id(3)] string Digest)
{
    /// <summary>True when nothing of the tenant was found on any tier after the erase.</summary>
    public bool Verified => Tiers.All(t => !t.SchemaRemains && !t.RoleRemains && t.RowsRemaining == 0);
}

/// <summary>A tenant as callers see it.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TenantView")]
public sealed record TenantView(
    [property: Id(0)] string Environment,
    [property: Id(1)] string Name,
    [property: Id(2)] TenantLifecycle State,
    [property: Id(3)] IReadOnlyList<TenantPlan> Plans,
    [property: Id(4)] IReadOnlyList<TenantPlacement> Placements,
    [property: Id(5)] TenantOperation? Operation,
    [property: Id(6)] IReadOnlyList<TenantHistoryEntry> History,
    [property: Id(7)] TenantEraseReport? EraseReport,
    [property: Id(8)] DateTimeOffset CreatedAt,
    [property: Id(9)] long Version,
    [property: Id(10)] TenantProbeResult? Probe = null,
    [property: Id(11)] TenantAnonymiseReport? AnonymiseReport = null,
    [property: Id(12)] IReadOnlyList<TenantTierAudit>? Audits = null);

/// <summary>One attempt of the cross-tenant probe on one tier.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TenantProbeFinding")]
public sealed record TenantProbeFinding(
    [property: Id(0)] string Tier,
    [property: Id(1)] string Target,
    [property: Id(2)] string Attempt,
    [property: Id(3)] bool Leaked,
    [property: Id(4)] string Detail);

/// <summary>The last cross-tenant probe run as this tenant: every attempt, and the tiers it could not run on (with why).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TenantProbeResult")]
public sealed record TenantProbeResult(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] IReadOnlyList<TenantProbeFinding> Findings,
    [property: Id(2)] IReadOnlyList<string> Skipped)
{
    public int Leaks => Findings.Count(f => f.Leaked);
}
