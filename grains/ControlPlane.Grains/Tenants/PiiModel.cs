namespace ControlPlane.Grains.Tenants;

/// <summary>
/// A column declared as personal data on a tier: the table's name (in every tenant schema of the tier, and in the shared
/// schema), the column, and the kind of pseudonym it takes.
/// </summary>
[GenerateSerializer, Immutable, Alias("controlplane.PiiColumn")]
public sealed record PiiColumn(
    [property: Id(0)] string Tier,
    [property: Id(1)] string Table,
    [property: Id(2)] string Column,
    [property: Id(3)] string Kind,
    [property: Id(4)] string DeclaredBy = "",
    [property: Id(5)] DateTimeOffset DeclaredAt = default)
{
    /// <summary><c>tier:table.column</c>, how the API and cpctl name a column.</summary>
    public string Key => $"{Tier}:{Table}.{Column}";
}

/// <summary>A column that looks personal from its name and type, for a reviewer to declare (or not).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.PiiSuggestionView")]
public sealed record PiiSuggestionView(
    [property: Id(0)] string Tier,
    [property: Id(1)] string Table,
    [property: Id(2)] string Column,
    [property: Id(3)] string Kind,
    [property: Id(4)] string DataType,
    [property: Id(5)] string Reason,
    [property: Id(6)] IReadOnlyList<string> Schemas);

/// <summary>What anonymisation did to one column of the tenant on a tier; <c>Note</c> says why a column was skipped.</summary>
[GenerateSerializer, Immutable, Alias("controlplane.AnonymisedColumn")]
public sealed record AnonymisedColumn(
    [property: Id(0)] string Table,
    [property: Id(1)] string Column,
    [property: Id(2)] string Kind,
    [property: Id(3)] long Rows,
    [property: Id(4)] long Updated,
    [property: Id(5)] int Values,
    [property: Id(6)] long OriginalsRemaining,
    [property: Id(7)] string Note);

[GenerateSerializer, Immutable, Alias("controlplane.TierAnonymiseReport")]
public sealed record TierAnonymiseReport(
    [property: Id(0)] string Tier,
    [property: Id(1)] string Replica,
    [property: Id(2)] IReadOnlyList<AnonymisedColumn> Columns);

/// <summary>The anonymisation report: per tier and column, and a SHA-256 digest over its canonical text (also in the audit log).</summary>
[GenerateSerializer, Immutable, Alias("controlplane.TenantAnonymiseReport")]
public sealed record TenantAnonymiseReport(
    [property: Id(0)] string Tenant,
    [property: Id(1)] string Operation,
    [property: Id(2)] DateTimeOffset CompletedAt,
    [property: Id(3)] IReadOnlyList<TierAnonymiseReport> Tiers,
    [property: Id(4)] string Digest)
{
    /// <summary>True when the verification found no replaced original in any declared column on any tier.</summary>
    public bool Verified => Tiers.All(t => t.Columns.All(c => c.OriginalsRemaining == 0));
}
