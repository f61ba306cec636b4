namespace ControlPlane.Postgres.Tenants;

/// <summary>
/// What the isolation audit knows about one tier's database, read from <c>pg_catalog</c> in one snapshot: the tenant
/// schemas and their tables, the policies on them, the roles, the grants, and the views, functions, sequences and large
/// objects that can reach tenant data. Plain data: the rules (<c>IsolationAuditRules</c>) judge it without a server.
/// </summary>
public sealed record IsolationFacts(
    string AdminRole,
    IReadOnlyList<FactSchema> Schemas,
    IReadOnlyList<FactTable> Tables,
    IReadOnlyList<FactPolicy> Policies,
    IReadOnlyList<FactRole> Roles,
    IReadOnlyList<FactGrant> Grants,
    IReadOnlyList<FactFunction> Functions,
    IReadOnlyList<FactView> Views,
    IReadOnlyList<FactSequence> Sequences,
    FactLargeObjects LargeObjects)
{
    public static IsolationFacts Empty(string adminRole) => new(adminRole, [], [], [], [], [], [], [], [], new FactLargeObjects(0, false));
}

/// <summary>A schema named <c>tenant_*</c> and its owner.</summary>
public sealed record FactSchema(string Name, string Owner);

/// <summary>A table of a <c>tenant_*</c> schema; the tenant-key facts are false when it has no <c>tenant_id</c> column.</summary>
public sealed record FactTable(
    string Schema,
    string Name,
    string Owner,
    bool RowSecurity,
    bool ForceRowSecurity,
    bool HasTenantKey,
    bool TenantKeyNotNull = false,
    bool TenantKeyIndexed = false);

/// <summary>A row-level security policy on a table of a <c>tenant_*</c> schema (<c>pg_policy</c>).</summary>
/// <param name="Command">ALL, SELECT, INSERT, UPDATE or DELETE.</param>
/// <param name="Roles">Role names it applies to; <c>PUBLIC</c> for every role.</param>
/// <param name="Using">The USING expression as the server deparses it; null when absent.</param>
/// <param name="WithCheck">The WITH CHECK expression; null when absent.</param>
public sealed record FactPolicy(
    string Schema,
    string Table,
    string Name,
    bool Permissive,
    string Command,
    IReadOnlyList<string> Roles,
    string? Using,
    string? WithCheck);

/// <summary>A role of the cluster (predefined <c>pg_*</c> roles left out) and the roles it is a member of.</summary>
public sealed record FactRole(
    string Name,
    bool Login,
    bool Superuser,
    bool BypassRls,
    bool CreateRole = false,
    bool CreateDb = false,
    bool Replication = false,
    IReadOnlyList<string>? MemberOf = null)
{
    public IReadOnlyList<string> Memberships => MemberOf ?? [];
}

/// <summary>One privilege on a schema, relation (table, view, sequence) or large object of a tenant schema, to a role or <c>PUBLIC</c>.</summary>
/// <param name="Kind">schema, table, view, sequence or large object.</param>
/// <param name="Object">The relation's name (empty for a schema; the large object's oid).</param>
/// <param name="Owner">The object's owner (whose implicit rights are not grants).</param>
public sealed record FactGrant(string Kind, string Schema, string Object, string Owner, string Grantee, string Privilege);

/// <summary>A function outside the system schemas.</summary>
public sealed record FactFunction(
    string Schema,
    string Name,
    string Arguments,
    string Owner,
    bool SecurityDefiner,
    bool SearchPathSet,
    bool PublicExecute);

/// <summary>A view or materialized view outside the system schemas that reads tables of <c>tenant_*</c> schemas.</summary>
/// <param name="TenantTables">The tables it reads, as <c>schema.table</c>.</param>
public sealed record FactView(
    string Schema,
    string Name,
    string Owner,
    bool Materialized,
    bool SecurityInvoker,
    IReadOnlyList<string> TenantTables);

/// <summary>A sequence used by (or owned by) tables of <c>tenant_*</c> schemas.</summary>
/// <param name="UsedBy">The tables using it, as <c>schema.table</c>.</param>
public sealed record FactSequence(string Schema, string Name, IReadOnlyList<string> UsedBy);

/// <summary>Large objects of the database (shared by every schema: they belong to no schema) and the compatibility switch that opens them all.</summary>
/// <param name="Grants">Each grant on a large object to a role other than its owner (grantee <c>PUBLIC</c> for everyone).</param>
public sealed record FactLargeObjects(long Count, bool CompatPrivileges, IReadOnlyList<FactGrant>? Grants = null)
{
    public IReadOnlyList<FactGrant> GrantList => Grants ?? [];
}
