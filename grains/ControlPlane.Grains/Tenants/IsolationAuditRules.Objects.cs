using ControlPlane.Postgres.Tenants;

namespace ControlPlane.Grains.Tenants;

/// <summary>The rules on roles, functions, views, grants, sequences and large objects.</summary>
public static partial class IsolationAuditRules
{
    private static readonly string[] PrivilegedRoles = ["pg_read_all_data", "pg_write_all_data", "pg_read_server_files", "pg_write_server_files", "pg_execute_server_program"];

    private static IEnumerable<IsolationFinding> Roles(AuditContext c)
    {
        foreach (var r in c.Facts.Roles.Where(r => c.AppRoles.Contains(r.Name)))
        {
            var tenant = c.TenantOfRole(r.Name);
            var who = tenant.Length > 0 ? $"tenant {tenant}'s role" : "an application role (it holds privileges on tenant objects)";
            if (r.Superuser)
            {
                yield return new("role-superuser", IsolationSeverity.Critical, tenant, $"role {r.Name}",
                    $"{r.Name} is {who} and a superuser: it skips every privilege check and every policy, so it reads and writes every tenant's data.",
                    $"ALTER ROLE {Ident(r.Name)} NOSUPERUSER;");
            }
            else if (r.BypassRls)
            {
                yield return new("role-bypassrls", IsolationSeverity.Critical, tenant, $"role {r.Name}",
                    $"{r.Name} is {who} with BYPASSRLS: no row-level policy applies to it, so it sees every tenant's rows of the shared tables it is granted.",
                    $"ALTER ROLE {Ident(r.Name)} NOBYPASSRLS;");
            }
            var bad = r.Memberships.Where(m => (c.TenantOfRole(m) is { Length: > 0 } other && other != tenant) || PrivilegedRoles.Contains(m)
                || c.Facts.Roles.Any(g => g.Name == m && (g.Superuser || g.BypassRls))).ToList();
            if (bad.Count > 0)
            {
                yield return new("role-privileged-membership", IsolationSeverity.Critical, tenant, $"role {r.Name}",
                    $"{r.Name} is {who} and a member of {string.Join(", ", bad)}: with SET ROLE (or inheritance) it acts with their privileges, another tenant's or every table's.",
                    string.Join(" ", bad.Select(m => $"REVOKE {Ident(m)} FROM {Ident(r.Name)};")));
            }
            if (r.CreateRole || r.CreateDb || r.Replication)
            {
                var what = new[] { r.CreateRole ? "CREATEROLE" : "", r.CreateDb ? "CREATEDB" : "", r.Replication ? "REPLICATION" : "" }.Where(w => w.Length > 0).ToList();
                yield return new("role-too-powerful", IsolationSeverity.Warning, tenant, $"role {r.Name}",
                    $"{r.Name} is {who} with {string.Join(", ", what)}: more than an application needs (CREATEROLE can grant itself other roles; REPLICATION streams every tenant's WAL).",
                    $"ALTER ROLE {Ident(r.Name)} {string.Join(" ", what.Select(w => "NO" + w))};");
            }
        }
        foreach (var t in c.Facts.Tables.Where(t => c.AppRoles.Contains(t.Owner)))
        {
            var ownerTenant = c.TenantOfRole(t.Owner);
            var schemaTenant = c.TenantOfSchema(t.Schema);
            if (t.Schema != SharedSchema && ownerTenant.Length > 0 && ownerTenant == schemaTenant) continue;
            var name = Table(t.Schema, t.Name);
            yield return new("role-owns-tenant-table", IsolationSeverity.High, schemaTenant.Length > 0 ? schemaTenant : ownerTenant, name,
                $"Application role {t.Owner} owns {name}: an owner can disable row-level security, drop the policies and grant the table to anyone.",
                $"ALTER TABLE {name} OWNER TO {Ident(c.Facts.AdminRole)};");
        }
    }

    private static IEnumerable<IsolationFinding> Functions(AuditContext c)
    {
        foreach (var f in c.Facts.Functions.Where(f => f.SecurityDefiner))
        {
            var signature = $"{Ident(f.Schema)}.{Ident(f.Name)}({f.Arguments})";
            var tenant = c.TenantOfSchema(f.Schema);
            if (!f.SearchPathSet)
            {
                yield return new("definer-mutable-search-path", IsolationSeverity.High, tenant, $"function {signature}",
                    $"It runs with its owner's ({f.Owner}) privileges and the caller's search_path: a caller who creates a function or operator it resolves runs code as {f.Owner}.",
                    $"ALTER FUNCTION {signature} SET search_path = pg_catalog, pg_temp;");
            }
            if (f.PublicExecute)
            {
                yield return new("definer-public-execute", IsolationSeverity.High, tenant, $"function {signature}",
                    $"Every role, every tenant's included, may call it, and it runs as {f.Owner}: whatever tenant data it reads or writes is reachable by all.",
                    $"REVOKE EXECUTE ON FUNCTION {signature} FROM PUBLIC;");
            }
        }
    }

    private static IEnumerable<IsolationFinding> Views(AuditContext c)
    {
        foreach (var v in c.Facts.Views)
        {
            var ownerTenant = c.TenantOfRole(v.Owner);
            var tableTenants = v.TenantTables.Select(t => c.TenantOfSchema(t[..t.IndexOf('.', StringComparison.Ordinal)])).Distinct(StringComparer.Ordinal).ToList();
            var readsShared = v.TenantTables.Any(t => t.StartsWith(SharedSchema + ".", StringComparison.Ordinal));
            // A view of one tenant over its own tables, owned by that tenant, reaches nothing more than the tenant itself can.
            var ownOnly = !readsShared && ownerTenant.Length > 0 && tableTenants.All(t => t == ownerTenant) && c.TenantOfSchema(v.Schema) == ownerTenant;
            if (ownOnly) continue;
            var name = Table(v.Schema, v.Name);
            var tenant = tableTenants.Count == 1 ? tableTenants[0] : "";
            if (v.Materialized)
            {
                yield return new("matview-over-tenant-table", IsolationSeverity.High, tenant, $"materialized view {name}",
                    $"It stores a copy of {string.Join(", ", v.TenantTables)} read as {v.Owner}, outside the tables' policies and privileges; whoever may read it reads that copy.",
                    $"DROP MATERIALIZED VIEW {name}; -- or keep one per tenant in the tenant's own schema");
            }
            else if (!v.SecurityInvoker)
            {
                yield return new("view-without-security-invoker", IsolationSeverity.High, tenant, $"view {name}",
                    $"It reads {string.Join(", ", v.TenantTables)} with its owner's ({v.Owner}) privileges and policies, not the caller's: a tenant granted the view sees what {v.Owner} sees.",
                    $"ALTER VIEW {name} SET (security_invoker = true);");
            }
        }
    }

    private static IEnumerable<IsolationFinding> Grants(AuditContext c)
    {
        foreach (var g in c.Facts.Grants.GroupBy(g => (g.Kind, g.Schema, g.Object, g.Grantee)))
        {
            var (kind, schema, obj, grantee) = g.Key;
            var privileges = string.Join(", ", g.Select(x => x.Privilege).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal));
            var schemaTenant = c.TenantOfSchema(schema);
            var granteeTenant = c.TenantOfRole(grantee);
            var isTenantSchema = schemaTenant.Length > 0 || schema == SharedSchema;
            if (!isTenantSchema) continue;
            var toPublic = grantee == "PUBLIC";
            var toOther = granteeTenant.Length > 0 && schemaTenant.Length > 0 && granteeTenant != schemaTenant;
            if (kind == "schema")
            {
                if (toPublic)
                {
                    yield return new("schema-granted-to-public", IsolationSeverity.Critical, schemaTenant, $"schema {Ident(schema)}",
                        $"PUBLIC holds {privileges} on the schema: every role, other tenants' included, may use{(privileges.Contains("CREATE", StringComparison.Ordinal) ? " and create objects in" : "")} it.",
                        $"REVOKE ALL ON SCHEMA {Ident(schema)} FROM PUBLIC;");
                }
                else if (toOther)
                {
                    yield return new("schema-granted-to-other-tenant", IsolationSeverity.Critical, schemaTenant, $"schema {Ident(schema)}",
                        $"Tenant {granteeTenant}'s role {grantee} holds {privileges} on tenant {schemaTenant}'s schema.",
                        $"REVOKE ALL ON SCHEMA {Ident(schema)} FROM {Ident(grantee)};");
                }
                continue;
            }
            var name = Table(schema, obj);
            if (toOther || (toPublic && schema != SharedSchema))
            {
                yield return new("object-granted-across-tenants", IsolationSeverity.Critical, schemaTenant, $"{kind} {name}",
                    $"{(toPublic ? "PUBLIC" : $"Tenant {granteeTenant}'s role {grantee}")} holds {privileges} on tenant {schemaTenant}'s {kind}.",
                    $"REVOKE ALL ON {(kind == "sequence" ? "SEQUENCE" : "TABLE")} {name} FROM {(toPublic ? "PUBLIC" : Ident(grantee))};");
            }
            else if (toPublic)
            {
                yield return new("object-granted-across-tenants", IsolationSeverity.Warning, "", $"{kind} {name}",
                    $"PUBLIC holds {privileges} on a shared {kind}: row-level security still filters the rows, but any role, not only the tenants', may query it and one missing policy exposes it.",
                    $"REVOKE ALL ON {(kind == "sequence" ? "SEQUENCE" : "TABLE")} {name} FROM PUBLIC;");
            }
        }
        foreach (var s in c.Facts.Schemas)
        {
            var schemaTenant = c.TenantOfSchema(s.Name);
            if (schemaTenant.Length == 0 && s.Name != SharedSchema) continue;
            if (c.TenantOfRole(s.Owner) is not { Length: > 0 } ownerTenant) continue;
            yield return new("tenant-schema-owned-by-tenant", IsolationSeverity.High, schemaTenant.Length > 0 ? schemaTenant : ownerTenant, $"schema {Ident(s.Name)}",
                $"Tenant {ownerTenant}'s role {s.Owner} owns the schema: an owner may grant it to anyone and drop it; register keeps tenant schemas owned by the control plane.",
                $"ALTER SCHEMA {Ident(s.Name)} OWNER TO {Ident(c.Facts.AdminRole)};");
        }
    }

    private static IEnumerable<IsolationFinding> Sequences(AuditContext c)
    {
        foreach (var s in c.Facts.Sequences)
        {
            var name = Table(s.Schema, s.Name);
            var schemas = s.UsedBy.Select(t => t[..t.IndexOf('.', StringComparison.Ordinal)]).Append(s.Schema)
                .Where(n => n.StartsWith("tenant_", StringComparison.Ordinal) && n != SharedSchema).Distinct(StringComparer.Ordinal).ToList();
            if (schemas.Count > 1)
            {
                yield return new("sequence-shared", IsolationSeverity.High, "", $"sequence {name}",
                    $"The tables of {string.Join(", ", schemas)} draw from one sequence: each tenant sees the others' insert rate in its ids, and each needs a privilege on an object outside its schema.",
                    $"-- give each tenant schema its own sequence: CREATE SEQUENCE <tenant schema>.<name>; ALTER TABLE ... ALTER COLUMN ... SET DEFAULT nextval('<tenant schema>.<name>');");
            }
            else if (s.UsedBy.Any(t => t.StartsWith(SharedSchema + ".", StringComparison.Ordinal)))
            {
                yield return new("sequence-shared", IsolationSeverity.Info, "", $"sequence {name}",
                    $"Every tenant of {string.Join(", ", s.UsedBy)} draws ids from this one sequence: the gaps between a tenant's ids tell it how much the others insert.",
                    "-- use uuid keys (gen_random_uuid()) in shared tables, or accept the disclosure");
            }
        }
    }

    private static IEnumerable<IsolationFinding> LargeObjects(AuditContext c)
    {
        var lo = c.Facts.LargeObjects;
        if (lo.CompatPrivileges && lo.Count > 0)
        {
            yield return new("large-objects-compat-privileges", IsolationSeverity.Critical, "", "setting lo_compat_privileges",
                $"lo_compat_privileges is on and the database holds {lo.Count} large object(s): large objects belong to no schema, and with it every role reads and writes all of them, every tenant's.",
                "ALTER SYSTEM SET lo_compat_privileges = off; SELECT pg_reload_conf();");
        }
        foreach (var g in lo.GrantList.GroupBy(g => (g.Object, g.Owner, g.Grantee)))
        {
            var ownerTenant = c.TenantOfRole(g.Key.Owner);
            if (ownerTenant.Length == 0) continue;
            var granteeTenant = c.TenantOfRole(g.Key.Grantee);
            if (g.Key.Grantee != "PUBLIC" && (granteeTenant.Length == 0 || granteeTenant == ownerTenant)) continue;
            yield return new("large-object-granted", IsolationSeverity.High, ownerTenant, $"large object {g.Key.Object}",
                $"Tenant {ownerTenant}'s large object is granted {string.Join(", ", g.Select(x => x.Privilege))} to {g.Key.Grantee}.",
                $"REVOKE ALL ON LARGE OBJECT {g.Key.Object} FROM {(g.Key.Grantee == "PUBLIC" ? "PUBLIC" : Ident(g.Key.Grantee))};");
        }
    }

    /// <summary>Lookups the rules share: which tenant a role or schema belongs to, and which roles applications use.</summary>
    private sealed class AuditContext
    {
        private readonly Dictionary<string, string> _roleTenant = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _schemaTenant = new(StringComparer.Ordinal);
        private readonly Dictionary<(string, string), FactTable> _tables = [];
        private readonly HashSet<string> _tenantNames = new(StringComparer.Ordinal);

        public AuditContext(IsolationFacts facts, IReadOnlyList<AuditedTenant> tenants)
        {
            Facts = facts;
            Tenants = tenants;
            foreach (var t in tenants)
            {
                var role = TenantProvisioner.RoleOf(t.Name);
                _roleTenant[role] = t.Name;
                _tenantNames.Add(t.Name);
                if (t.Kind == PlacementKind.Schema) _schemaTenant[role] = t.Name;
            }
            foreach (var t in facts.Tables) _tables[(t.Schema, t.Name)] = t;
            // Applications connect as the tenants' roles, or as other login roles holding privileges on tenant objects;
            // the control plane's own admin is not one of them.
            var privileged = facts.Grants.Select(g => g.Grantee).Concat(facts.Policies.SelectMany(p => p.Roles)).ToHashSet(StringComparer.Ordinal);
            AppRoles = facts.Roles
                .Where(r => r.Name != facts.AdminRole && (_roleTenant.ContainsKey(r.Name) || (r.Login && privileged.Contains(r.Name))))
                .Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        }

        public IsolationFacts Facts { get; }

        public IReadOnlyList<AuditedTenant> Tenants { get; }

        public HashSet<string> AppRoles { get; }

        public string TenantOfRole(string role) => _roleTenant.GetValueOrDefault(role, "");

        public string TenantOfSchema(string schema) => _schemaTenant.GetValueOrDefault(schema, "");

        /// <summary>The one tenant whose role is among <paramref name="roles"/>; empty when none or several.</summary>
        public string TenantOfRoles(IReadOnlyList<string> roles)
        {
            var tenants = roles.Select(TenantOfRole).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();
            return tenants.Count == 1 ? tenants[0] : "";
        }

        public bool IsTenant(string name) => _tenantNames.Contains(name);

        public FactTable? Table(string schema, string table) => _tables.GetValueOrDefault((schema, table));
    }
}
