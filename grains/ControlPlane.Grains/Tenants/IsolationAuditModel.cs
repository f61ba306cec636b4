namespace ControlPlane.Grains.Tenants;

/// <summary>How bad an isolation finding is. Critical: another tenant's data is (or can be made) reachable now.</summary>
[GenerateSerializer, Alias("controlplane.IsolationSeverity")]
public enum IsolationSeverity
{
    Info = 0,
    Warning = 1,
    High = 2,
    Critical = 3,
}

/// <summary>
/// One finding of the isolation audit: the rule, how bad, the tenant it concerns (empty: every tenant of the placement on
/// the tier), the object, why it matters and the SQL that fixes it.
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.IsolationFinding")]
public sealed record IsolationFinding(
    [property: Id(0)] string Rule,
    [property: Id(1)] IsolationSeverity Severity,
    [property: Id(2)] string Tenant,
    [property: Id(3)] string Object,
    [property: Id(4)] string Explanation,
    [property: Id(5)] string Fix);

/// <summary>A tenant placed on the audited tier, and how.</summary>
public sealed record AuditedTenant(string Name, PlacementKind Kind);

/// <summary>The isolation audit of one tier: when, on which replica, how long it took, what was read, what was found.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TierIsolationAudit")]
public sealed record TierIsolationAudit(
    [property: Id(0)] string Tier,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] string Replica,
    [property: Id(3)] TimeSpan Took,
    [property: Id(4)] int Tenants,
    [property: Id(5)] int Objects,
    [property: Id(6)] IReadOnlyList<IsolationFinding> Findings,
    [property: Id(7)] string Error = "")
{
    public int Critical => Findings.Count(f => f.Severity == IsolationSeverity.Critical);

    /// <summary>The findings that concern <paramref name="tenant"/>: its own, and those about every tenant of the tier.</summary>
    public IReadOnlyList<IsolationFinding> For(string tenant) => [.. Findings.Where(f => f.Tenant.Length == 0 || f.Tenant == tenant)];
}

/// <summary>The audit findings of one tier as a tenant keeps them (its own and the tier-wide ones).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TenantTierAudit")]
public sealed record TenantTierAudit(
    [property: Id(0)] string Tier,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] IReadOnlyList<IsolationFinding> Findings);
