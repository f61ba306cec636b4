using System.Text.RegularExpressions;
using ControlPlane.Postgres.Tenants;

namespace ControlPlane.Grains.Tenants;

/// <summary>
/// The isolation audit's rules: pure functions over the catalog facts of one tier (<see cref="IsolationFacts"/>) and the
/// tenants placed on it. Schema placement isolates by privileges (a tenant's schema reachable by its role only); shared
/// placement by RLS policies bound to each tenant's role on the tables of <c>tenant_shared</c>. Each rule says what
/// breaks one of those, for whom, and the SQL that repairs it. The rule table, with fixes, is in docs/tenants.md.
/// </summary>
public static partial class IsolationAuditRules
{
    public const string SharedSchema = "tenant_shared";

    /// <summary>Every rule: id, severity (the highest it reports), and a short title for docs and the CLI.</summary>
    public static readonly IReadOnlyList<(string Id, IsolationSeverity Severity, string Title)> All =
    [
        ("rls-disabled", IsolationSeverity.Critical, "shared tenant table without row-level security"),
        ("rls-not-forced", IsolationSeverity.High, "RLS enabled but not FORCEd (the owner bypasses it)"),
        ("policy-always-true", IsolationSeverity.Critical, "permissive policy whose USING or WITH CHECK is always true"),
        ("policy-without-tenant-key", IsolationSeverity.High, "policy that does not reference tenant_id"),
        ("policy-other-tenant", IsolationSeverity.Critical, "tenant's policy naming another tenant's key, or bound to several tenants' roles"),
        ("policy-for-public", IsolationSeverity.Critical, "policy for PUBLIC with a fixed predicate: every role gets those rows"),
        ("policies-overlap", IsolationSeverity.Warning, "permissive policies for the same role and command (they OR together)"),
        ("current-setting-without-missing-ok", IsolationSeverity.Warning, "current_setting() without missing_ok in a policy"),
        ("role-superuser", IsolationSeverity.Critical, "application role is a superuser"),
        ("role-bypassrls", IsolationSeverity.Critical, "application role has BYPASSRLS"),
        ("role-owns-tenant-table", IsolationSeverity.High, "application role owns a shared table or another tenant's table"),
        ("role-privileged-membership", IsolationSeverity.Critical, "application role is a member of another tenant's role or of a privileged role"),
        ("role-too-powerful", IsolationSeverity.Warning, "application role with CREATEROLE, CREATEDB or REPLICATION"),
        ("definer-mutable-search-path", IsolationSeverity.High, "SECURITY DEFINER function without a fixed search_path"),
        ("definer-public-execute", IsolationSeverity.High, "SECURITY DEFINER function executable by PUBLIC"),
        ("view-without-security-invoker", IsolationSeverity.High, "view over tenant tables running as its owner"),
        ("matview-over-tenant-table", IsolationSeverity.High, "materialized view copying tenant rows outside their isolation"),
        ("schema-granted-to-public", IsolationSeverity.Critical, "privilege on a tenant schema to PUBLIC"),
        ("schema-granted-to-other-tenant", IsolationSeverity.Critical, "privilege on a tenant's schema to another tenant's role"),
        ("object-granted-across-tenants", IsolationSeverity.Critical, "privilege on a tenant's table, view or sequence to another tenant or PUBLIC"),
        ("tenant-key-not-indexed", IsolationSeverity.Warning, "tenant_id without an index leading with it"),
        ("tenant-key-nullable", IsolationSeverity.Warning, "shared table whose tenant_id may be NULL"),
        ("sequence-shared", IsolationSeverity.High, "sequence used by several tenants' tables"),
        ("large-objects-compat-privileges", IsolationSeverity.Critical, "lo_compat_privileges on: every large object readable by every role"),
        ("large-object-granted", IsolationSeverity.High, "tenant's large object granted to PUBLIC or another tenant"),
        ("shared-tenant-without-policy", IsolationSeverity.Warning, "shared-placement tenant without its policy on a shared table"),
        ("tenant-schema-owned-by-tenant", IsolationSeverity.High, "tenant schema owned by a tenant role (it can grant it away)"),
    ];

    /// <summary>Every finding on the tier, most severe first, then by rule and object.</summary>
    public static IReadOnlyList<IsolationFinding> Evaluate(IsolationFacts facts, IReadOnlyList<AuditedTenant> tenants)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(tenants);
        var c = new AuditContext(facts, tenants);
        var findings = new List<IsolationFinding>();
        findings.AddRange(RowSecurity(c));
        findings.AddRange(Policies(c));
        findings.AddRange(PolicyOverlaps(c));
        findings.AddRange(Roles(c));
        findings.AddRange(Functions(c));
        findings.AddRange(Views(c));
        findings.AddRange(Grants(c));
        findings.AddRange(TenantKeys(c));
        findings.AddRange(Sequences(c));
        findings.AddRange(LargeObjects(c));
        findings.AddRange(SharedCoverage(c));
        return [.. findings.OrderByDescending(f => f.Severity).ThenBy(f => f.Rule, StringComparer.Ordinal).ThenBy(f => f.Object, StringComparer.Ordinal).ThenBy(f => f.Tenant, StringComparer.Ordinal)];
    }

    private static IEnumerable<IsolationFinding> RowSecurity(AuditContext c)
    {
        foreach (var t in c.Facts.Tables.Where(t => t.Schema == SharedSchema && t.HasTenantKey))
        {
            var name = Table(t.Schema, t.Name);
            if (!t.RowSecurity)
            {
                yield return new("rls-disabled", IsolationSeverity.Critical, "", name,
                    "Row-level security is off: every role granted the table sees and changes every tenant's rows, whatever the policies say.",
                    $"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY; ALTER TABLE {name} FORCE ROW LEVEL SECURITY;");
            }
            else if (!t.ForceRowSecurity)
            {
                yield return new("rls-not-forced", IsolationSeverity.High, "", name,
                    $"RLS is enabled but not forced: the table's owner ({t.Owner}) bypasses every policy, and so does any application that connects as it.",
                    $"ALTER TABLE {name} FORCE ROW LEVEL SECURITY;");
            }
        }
    }

    private static IEnumerable<IsolationFinding> Policies(AuditContext c)
    {
        foreach (var p in c.Facts.Policies)
        {
            var table = Table(p.Schema, p.Table);
            var obj = $"policy {p.Name} on {table}";
            var tenant = c.TenantOfRoles(p.Roles);
            var keyed = c.Table(p.Schema, p.Table)?.HasTenantKey ?? false;
            var alwaysTrue = p.Permissive && (AlwaysTrue(p.Using) || AlwaysTrue(p.WithCheck));
            var drop = $"DROP POLICY {Ident(p.Name)} ON {table};";
            if (alwaysTrue)
            {
                yield return new("policy-always-true", IsolationSeverity.Critical, tenant, obj,
                    $"A permissive policy ORs with the others: one that is always true ({(AlwaysTrue(p.Using) ? "USING" : "WITH CHECK")}) lets {RoleList(p.Roles)} reach every tenant's rows.",
                    drop + Recreate(c, p, table));
            }
            else if (keyed && p.Permissive && !MentionsTenantKey(p.Using ?? p.WithCheck))
            {
                yield return new("policy-without-tenant-key", IsolationSeverity.High, tenant, obj,
                    $"The policy's predicate does not reference tenant_id, so it does not separate tenants' rows: {p.Using ?? p.WithCheck}.",
                    drop + Recreate(c, p, table));
            }
            var tenantRoles = p.Roles.Select(c.TenantOfRole).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();
            var foreignKeys = tenantRoles.Count == 1
                ? Literals(p.Using).Concat(Literals(p.WithCheck)).Where(k => k != tenantRoles[0] && c.IsTenant(k)).Distinct(StringComparer.Ordinal).ToList()
                : [];
            if (tenantRoles.Count > 1 || foreignKeys.Count > 0)
            {
                var why = tenantRoles.Count > 1
                    ? $"The policy is bound to the roles of tenants {string.Join(", ", tenantRoles)}: each of them gets the rows it admits for the others."
                    : $"The policy of tenant {tenantRoles[0]} admits rows of tenant(s) {string.Join(", ", foreignKeys)}.";
                yield return new("policy-other-tenant", IsolationSeverity.Critical, tenantRoles.Count == 1 ? tenantRoles[0] : "", obj, why, drop + Recreate(c, p, table));
            }
            if (p.Permissive && keyed && !alwaysTrue && p.Roles.Contains("PUBLIC") && !SessionBound(p.Using) && !SessionBound(p.WithCheck))
            {
                yield return new("policy-for-public", IsolationSeverity.Critical, "", obj,
                    "The policy applies to PUBLIC with a fixed predicate (no current_user, no current_setting): every role granted the table, any tenant's included, gets the rows it admits.",
                    $"{drop} -- bind it to the one tenant's role instead (CREATE POLICY ... TO tenant_<name> ...)");
            }
            if (UnsafeSetting().IsMatch(p.Using ?? "") || UnsafeSetting().IsMatch(p.WithCheck ?? ""))
            {
                yield return new("current-setting-without-missing-ok", IsolationSeverity.Warning, tenant, obj,
                    "current_setting(name) without missing_ok raises an error when the setting is absent, which pushes applications to set a default that widens the policy; current_setting(name, true) answers NULL and matches no row.",
                    $"ALTER POLICY {Ident(p.Name)} ON {table} USING (tenant_id = current_setting('app.tenant_id', true));");
            }
        }
    }

    private static IEnumerable<IsolationFinding> PolicyOverlaps(AuditContext c)
    {
        foreach (var group in c.Facts.Policies.Where(p => p.Permissive).GroupBy(p => (p.Schema, p.Table)))
        {
            var policies = group.OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
            // Only policies sharing a role (or one of them for PUBLIC) can overlap: index them by role, so a table with
            // one template policy per tenant costs one pass, not every pair.
            var byRole = new Dictionary<string, List<int>>(StringComparer.Ordinal);
            for (var i = 0; i < policies.Count; i++)
                foreach (var role in policies[i].Roles) (byRole.TryGetValue(role, out var list) ? list : byRole[role] = []).Add(i);
            var pairs = new SortedSet<(int, int)>();
            var everyone = byRole.GetValueOrDefault("PUBLIC") ?? [];
            foreach (var indexes in byRole.Values)
            {
                foreach (var i in indexes)
                {
                    foreach (var j in indexes.Concat(everyone)) if (i != j) pairs.Add((Math.Min(i, j), Math.Max(i, j)));
                }
            }
            foreach (var (i, j) in pairs)
            {
                var (a, b) = (policies[i], policies[j]);
                if (!(a.Command == "ALL" || b.Command == "ALL" || a.Command == b.Command)) continue;
                var common = a.Roles.Contains("PUBLIC") ? b.Roles : b.Roles.Contains("PUBLIC") ? a.Roles : [.. a.Roles.Intersect(b.Roles, StringComparer.Ordinal)];
                if (common.Count == 0) continue;
                var table = Table(group.Key.Schema, group.Key.Table);
                yield return new("policies-overlap", IsolationSeverity.Warning, c.TenantOfRoles(common), $"policies {a.Name} and {b.Name} on {table}",
                    $"Both are permissive for {RoleList(common)} and {(a.Command == "ALL" ? b.Command : a.Command)}: their predicates OR together, so the wider one decides; a restriction added to one of them protects nothing.",
                    $"-- merge them into one policy, or make the narrowing one restrictive: CREATE POLICY ... AS RESTRICTIVE ...; DROP POLICY {Ident(b.Name)} ON {table};");
            }
        }
    }

    private static IEnumerable<IsolationFinding> TenantKeys(AuditContext c)
    {
        foreach (var t in c.Facts.Tables.Where(t => t.HasTenantKey))
        {
            var name = Table(t.Schema, t.Name);
            if (!t.TenantKeyIndexed)
            {
                yield return new("tenant-key-not-indexed", IsolationSeverity.Warning, c.TenantOfSchema(t.Schema), name,
                    "No index leads with tenant_id: every policy check scans the table, one tenant's load slows every other, and erasing a tenant reads all rows.",
                    $"CREATE INDEX CONCURRENTLY ON {name} (tenant_id);");
            }
            if (t.Schema == SharedSchema && !t.TenantKeyNotNull)
            {
                yield return new("tenant-key-nullable", IsolationSeverity.Warning, "", name,
                    "tenant_id may be NULL: such rows belong to no tenant, no erase removes them and a policy written with IS NOT DISTINCT FROM or COALESCE may hand them to anyone.",
                    $"DELETE FROM {name} WHERE tenant_id IS NULL; ALTER TABLE {name} ALTER COLUMN tenant_id SET NOT NULL;");
            }
        }
    }

    private static IEnumerable<IsolationFinding> SharedCoverage(AuditContext c)
    {
        var shared = c.Tenants.Where(t => t.Kind == PlacementKind.Shared).ToList();
        if (shared.Count == 0) yield break;
        foreach (var t in c.Facts.Tables.Where(t => t.Schema == SharedSchema && t.HasTenantKey))
        {
            var bound = c.Facts.Policies.Where(p => p.Schema == t.Schema && p.Table == t.Name).SelectMany(p => p.Roles).ToHashSet(StringComparer.Ordinal);
            foreach (var tenant in shared.Where(s => !bound.Contains(TenantProvisioner.RoleOf(s.Name))))
            {
                var role = TenantProvisioner.RoleOf(tenant.Name);
                var name = Table(t.Schema, t.Name);
                yield return new("shared-tenant-without-policy", IsolationSeverity.Warning, tenant.Name, name,
                    "The table was created after the tenant was provisioned: it has no policy (and no grant) for the tenant's role, so the tenant's application cannot use it (default deny).",
                    $"CREATE POLICY {Ident(role)} ON {name} AS PERMISSIVE FOR ALL TO {Ident(role)} USING (tenant_id = {Literal(tenant.Name)}) WITH CHECK (tenant_id = {Literal(tenant.Name)}); GRANT SELECT, INSERT, UPDATE, DELETE ON {name} TO {Ident(role)};");
            }
        }
    }

    /// <summary>The template policy for the policy's single tenant role, or a hint when it has none.</summary>
    private static string Recreate(AuditContext c, FactPolicy p, string table)
    {
        var tenants = p.Roles.Select(c.TenantOfRole).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (tenants.Count != 1) return " -- then one policy per tenant: CREATE POLICY tenant_<name> ... TO tenant_<name> USING (tenant_id = '<name>') WITH CHECK (tenant_id = '<name>');";
        var role = TenantProvisioner.RoleOf(tenants[0]);
        var key = Literal(tenants[0]);
        return $" CREATE POLICY {Ident(role)} ON {table} AS PERMISSIVE FOR ALL TO {Ident(role)} USING (tenant_id = {key}) WITH CHECK (tenant_id = {key});";
    }

    internal static bool AlwaysTrue(string? expression)
    {
        if (expression is null) return false;
        var e = Regex.Replace(expression, @"\s+", "", RegexOptions.CultureInvariant).ToLowerInvariant();
        while (e.Length > 1 && e[0] == '(' && e[^1] == ')') e = e[1..^1];
        return e is "true" or "1=1" or "'t'::boolean" or "'true'::boolean";
    }

    private static bool MentionsTenantKey(string? expression) => expression is not null && TenantKey().IsMatch(expression);

    /// <summary>A predicate that depends on who asks (the session): it can separate tenants even when bound to PUBLIC.</summary>
    private static bool SessionBound(string? expression) =>
        expression is not null && (expression.Contains("current_setting", StringComparison.Ordinal) || expression.Contains("current_user", StringComparison.Ordinal)
            || expression.Contains("session_user", StringComparison.Ordinal));

    private static IEnumerable<string> Literals(string? expression) =>
        expression is null ? [] : QuotedLiteral().Matches(expression).Select(m => m.Groups[1].Value.Replace("''", "'", StringComparison.Ordinal));

    private static string RoleList(IReadOnlyList<string> roles) => roles.Count == 1 ? $"role {roles[0]}" : $"roles {string.Join(", ", roles)}";

    /// <summary>An identifier as SQL: bare when it is a plain lowercase name, else double-quoted.</summary>
    public static string Ident(string name) =>
        PlainIdentifier().IsMatch(name) ? name : "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string Table(string schema, string table) => $"{Ident(schema)}.{Ident(table)}";

    [GeneratedRegex(@"\btenant_id\b", RegexOptions.CultureInvariant)]
    private static partial Regex TenantKey();

    [GeneratedRegex(@"'((?:[^']|'')*)'", RegexOptions.CultureInvariant)]
    private static partial Regex QuotedLiteral();

    // current_setting('x'::text) — one argument; with missing_ok the server deparses current_setting('x'::text, true).
    [GeneratedRegex(@"current_setting\(\s*'(?:[^']|'')*'(?:::text)?\s*\)", RegexOptions.CultureInvariant)]
    private static partial Regex UnsafeSetting();

    [GeneratedRegex("^[a-z_][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainIdentifier();
}
