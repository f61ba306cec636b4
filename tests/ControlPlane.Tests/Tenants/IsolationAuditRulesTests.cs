using ControlPlane.Grains.Tenants;
using ControlPlane.Postgres.Tenants;
using Xunit;

namespace ControlPlane.Tests.Tenants;

/// <summary>
/// Every isolation rule over a catalog shaped as register leaves it (schema tenants acme and beta, shared tenants gamma
/// and delta on tenant_shared.notes): clean, it finds nothing; each positive case breaks one thing and the rule finds
/// it, for the right tenant; each negative case is the near miss the rule must not report.
/// </summary>
public sealed class IsolationAuditRulesTests
{
    private static readonly AuditedTenant[] Tenants =
    [
        new("acme", PlacementKind.Schema), new("beta", PlacementKind.Schema), new("gamma", PlacementKind.Shared), new("delta", PlacementKind.Shared),
    ];

    private static FactPolicy Template(string tenant) =>
        new("tenant_shared", "notes", $"tenant_{tenant}", true, "ALL", [$"tenant_{tenant}"], $"(tenant_id = '{tenant}'::text)", $"(tenant_id = '{tenant}'::text)");

    private static FactGrant[] Rows(string role) =>
        [.. new[] { "SELECT", "INSERT", "UPDATE", "DELETE" }.Select(p => new FactGrant("table", "tenant_shared", "notes", "postgres", role, p))];

    /// <summary>The catalog after registering the four tenants, with one tenant table, a seq, a tenant's own view and a safe definer function.</summary>
    private static readonly IsolationFacts Clean = new(
        "postgres",
        [new("tenant_acme", "postgres"), new("tenant_beta", "postgres"), new("tenant_shared", "postgres")],
        [
            new("tenant_acme", "orders", "tenant_acme", false, false, false),
            new("tenant_shared", "notes", "postgres", true, true, true, TenantKeyNotNull: true, TenantKeyIndexed: true),
        ],
        [Template("gamma"), Template("delta")],
        [
            new("postgres", true, true, true, true, true, true),
            new("tenant_acme", true, false, false), new("tenant_beta", true, false, false),
            new("tenant_gamma", true, false, false), new("tenant_delta", true, false, false),
            new("reporting", false, false, false),
        ],
        [
            new("schema", "tenant_acme", "", "postgres", "tenant_acme", "USAGE"), new("schema", "tenant_acme", "", "postgres", "tenant_acme", "CREATE"),
            new("schema", "tenant_beta", "", "postgres", "tenant_beta", "USAGE"), new("schema", "tenant_beta", "", "postgres", "tenant_beta", "CREATE"),
            new("schema", "tenant_shared", "", "postgres", "tenant_gamma", "USAGE"), new("schema", "tenant_shared", "", "postgres", "tenant_delta", "USAGE"),
            .. Rows("tenant_gamma"), .. Rows("tenant_delta"),
        ],
        [new("tenant_acme", "order_total", "order_id integer", "tenant_acme", true, true, false), new("public", "now_utc", "", "postgres", false, false, true)],
        [new("tenant_acme", "open_orders", "tenant_acme", false, false, ["tenant_acme.orders"]), new("public", "notes_view", "postgres", false, true, ["tenant_shared.notes"])],
        [new("tenant_acme", "orders_id_seq", ["tenant_acme.orders"])],
        new FactLargeObjects(0, false));

    private static readonly Dictionary<string, Func<IsolationFacts, IsolationFacts>> Positive = new()
    {
        ["rls-disabled"] = f => WithTable(f, "notes", t => t with { RowSecurity = false, ForceRowSecurity = false }),
        ["rls-not-forced"] = f => WithTable(f, "notes", t => t with { ForceRowSecurity = false }),
        ["policy-always-true"] = f => f with { Policies = [.. f.Policies, new("tenant_shared", "notes", "leaky", true, "SELECT", ["tenant_gamma"], "true", null)] },
        ["policy-without-tenant-key"] = f => f with { Policies = [.. f.Policies.Where(p => p.Name != "tenant_gamma"), Template("gamma") with { Using = "(body IS NOT NULL)", WithCheck = null }] },
        ["policy-other-tenant"] = f => f with { Policies = [.. f.Policies.Where(p => p.Name != "tenant_gamma"), Template("gamma") with { Using = "(tenant_id = ANY (ARRAY['gamma'::text, 'delta'::text]))" }] },
        ["policy-for-public"] = f => f with { Policies = [.. f.Policies, new("tenant_shared", "notes", "open_gamma", true, "SELECT", ["PUBLIC"], "(tenant_id = 'gamma'::text)", null)] },
        ["policies-overlap"] = f => f with { Policies = [.. f.Policies, new("tenant_shared", "notes", "gamma_extra", true, "SELECT", ["tenant_gamma"], "(tenant_id = 'gamma'::text)", null)] },
        ["current-setting-without-missing-ok"] = f => f with { Policies = [.. f.Policies, new("tenant_shared", "notes", "by_setting", false, "ALL", ["tenant_gamma"], "(tenant_id = current_setting('app.tenant_id'::text))", null)] },
        ["role-superuser"] = f => WithRole(f, "tenant_acme", r => r with { Superuser = true }),
        ["role-bypassrls"] = f => WithRole(f, "tenant_gamma", r => r with { BypassRls = true }),
        ["role-owns-tenant-table"] = f => WithTable(f, "notes", t => t with { Owner = "tenant_gamma" }),
        ["role-privileged-membership"] = f => WithRole(f, "tenant_acme", r => r with { MemberOf = ["tenant_beta"] }),
        ["role-too-powerful"] = f => WithRole(f, "tenant_beta", r => r with { CreateRole = true }),
        ["definer-mutable-search-path"] = f => f with { Functions = [.. f.Functions, new("public", "notes_of", "t text", "postgres", true, false, false)] },
        ["definer-public-execute"] = f => f with { Functions = [.. f.Functions, new("public", "notes_of", "t text", "postgres", true, true, true)] },
        ["view-without-security-invoker"] = f => f with { Views = [.. f.Views, new("public", "all_notes", "postgres", false, false, ["tenant_shared.notes"])] },
        ["matview-over-tenant-table"] = f => f with { Views = [.. f.Views, new("public", "notes_copy", "postgres", true, false, ["tenant_shared.notes"])] },
        ["schema-granted-to-public"] = f => f with { Grants = [.. f.Grants, new("schema", "tenant_acme", "", "postgres", "PUBLIC", "USAGE")] },
        ["schema-granted-to-other-tenant"] = f => f with { Grants = [.. f.Grants, new("schema", "tenant_beta", "", "postgres", "tenant_acme", "USAGE")] },
        ["object-granted-across-tenants"] = f => f with { Grants = [.. f.Grants, new("table", "tenant_beta", "secrets", "tenant_beta", "tenant_acme", "SELECT")] },
        ["tenant-key-not-indexed"] = f => WithTable(f, "notes", t => t with { TenantKeyIndexed = false }),
        ["tenant-key-nullable"] = f => WithTable(f, "notes", t => t with { TenantKeyNotNull = false }),
        ["sequence-shared"] = f => f with { Sequences = [new("tenant_acme", "orders_id_seq", ["tenant_acme.orders", "tenant_beta.orders"])] },
        ["large-objects-compat-privileges"] = f => f with { LargeObjects = new FactLargeObjects(3, true) },
        ["large-object-granted"] = f => f with { LargeObjects = new FactLargeObjects(1, false, [new("large object", "", "16400", "tenant_acme", "tenant_beta", "SELECT")]) },
        ["shared-tenant-without-policy"] = f => f with { Policies = [.. f.Policies.Where(p => p.Name != "tenant_delta")] },
        ["tenant-schema-owned-by-tenant"] = f => f with { Schemas = [.. f.Schemas.Where(s => s.Name != "tenant_acme"), new("tenant_acme", "tenant_acme")] },
    };

    /// <summary>The tenant each positive case's finding names (empty: every tenant of the placement).</summary>
    private static readonly Dictionary<string, string> ExpectedTenant = new()
    {
        ["policy-always-true"] = "gamma", ["policy-without-tenant-key"] = "gamma", ["policy-other-tenant"] = "gamma", ["policies-overlap"] = "gamma",
        ["current-setting-without-missing-ok"] = "gamma", ["role-superuser"] = "acme", ["role-bypassrls"] = "gamma", ["role-owns-tenant-table"] = "gamma",
        ["role-privileged-membership"] = "acme", ["role-too-powerful"] = "beta", ["schema-granted-to-public"] = "acme", ["schema-granted-to-other-tenant"] = "beta",
        ["object-granted-across-tenants"] = "beta", ["large-object-granted"] = "acme", ["shared-tenant-without-policy"] = "delta", ["tenant-schema-owned-by-tenant"] = "acme",
    };

    private static readonly Dictionary<string, Func<IsolationFacts, IsolationFacts>> Negative = new()
    {
        ["rls-disabled"] = f => f with { Tables = [.. f.Tables, new("tenant_shared", "lookup", "postgres", false, false, false)] },
        ["rls-not-forced"] = f => WithTable(f, "orders", t => t with { RowSecurity = true }),
        ["policy-always-true"] = f => f with { Policies = [.. f.Policies, new("tenant_shared", "notes", "deny_true", false, "SELECT", ["tenant_gamma"], "true", null)] },
        ["policy-without-tenant-key"] = f => f with { Policies = [.. f.Policies.Where(p => p.Name != "tenant_gamma"), Template("gamma") with { Using = "((tenant_id = 'gamma'::text) AND (body IS NOT NULL))" }] },
        ["policy-other-tenant"] = f => f with { Policies = [.. f.Policies.Where(p => p.Name != "tenant_gamma"), Template("gamma") with { Using = "((tenant_id = 'gamma'::text) AND (body <> 'unknown'::text))" }] },
        ["policy-for-public"] = f => f with { Policies = [.. f.Policies, new("tenant_shared", "notes", "by_setting", true, "SELECT", ["PUBLIC"], "(tenant_id = current_setting('app.tenant_id'::text, true))", null)] },
        ["policies-overlap"] = f => f with { Policies = [.. f.Policies, new("tenant_shared", "notes", "reporting_read", true, "SELECT", ["reporting"], "(tenant_id = 'gamma'::text)", null), new("tenant_shared", "notes", "gamma_only", false, "SELECT", ["tenant_gamma"], "(tenant_id = 'gamma'::text)", null)] },
        ["current-setting-without-missing-ok"] = f => f with { Policies = [.. f.Policies, new("tenant_shared", "notes", "by_setting", false, "ALL", ["tenant_gamma"], "(tenant_id = current_setting('app.tenant_id'::text, true))", null)] },
        ["role-superuser"] = f => f with { Roles = [.. f.Roles, new("dba", true, true, false)] },
        ["role-bypassrls"] = f => WithRole(f, "reporting", r => r with { BypassRls = true }),
        ["role-owns-tenant-table"] = f => f with { Tables = [.. f.Tables, new("tenant_acme", "invoices", "tenant_acme", false, false, false)] },
        ["role-privileged-membership"] = f => WithRole(f, "tenant_acme", r => r with { MemberOf = ["reporting"] }),
        ["role-too-powerful"] = f => WithRole(f, "reporting", r => r with { CreateDb = true }),
        ["definer-mutable-search-path"] = f => f with { Functions = [.. f.Functions, new("public", "notes_of", "t text", "postgres", false, false, true)] },
        ["definer-public-execute"] = f => f with { Functions = [.. f.Functions, new("public", "notes_of", "t text", "postgres", true, true, false)] },
        ["view-without-security-invoker"] = f => f with { Views = [.. f.Views, new("tenant_acme", "big_orders", "tenant_acme", false, false, ["tenant_acme.orders"])] },
        ["matview-over-tenant-table"] = f => f with { Views = [.. f.Views, new("tenant_acme", "order_stats", "tenant_acme", true, false, ["tenant_acme.orders"])] },
        ["schema-granted-to-public"] = f => f with { Grants = [.. f.Grants, new("schema", "tenant_template", "", "postgres", "PUBLIC", "USAGE")] },
        ["schema-granted-to-other-tenant"] = f => f with { Grants = [.. f.Grants, new("schema", "tenant_beta", "", "postgres", "reporting", "USAGE")] },
        ["object-granted-across-tenants"] = f => f with { Grants = [.. f.Grants, new("table", "tenant_beta", "secrets", "tenant_beta", "tenant_beta", "SELECT")] },
        ["tenant-key-not-indexed"] = f => f with { Tables = [.. f.Tables, new("tenant_acme", "items", "tenant_acme", false, false, false)] },
        ["tenant-key-nullable"] = f => f with { Tables = [.. f.Tables, new("tenant_acme", "legacy", "tenant_acme", false, false, true, false, true)] },
        ["sequence-shared"] = f => f with { Sequences = [new("tenant_acme", "orders_id_seq", ["tenant_acme.orders", "tenant_acme.items"])] },
        ["large-objects-compat-privileges"] = f => f with { LargeObjects = new FactLargeObjects(0, true) },
        ["large-object-granted"] = f => f with { LargeObjects = new FactLargeObjects(1, false, [new("large object", "", "16400", "reporting", "PUBLIC", "SELECT")]) },
        ["shared-tenant-without-policy"] = f => f with { Tables = [.. f.Tables, new("tenant_shared", "lookup", "postgres", true, true, false)] },
        ["tenant-schema-owned-by-tenant"] = f => f with { Schemas = [.. f.Schemas, new("tenant_template", "tenant_acme")] },
    };

    public static TheoryData<string> Rules => [.. IsolationAuditRules.All.Select(r => r.Id)];

    [Fact]
    public void The_catalog_register_leaves_has_no_finding() => Assert.Empty(IsolationAuditRules.Evaluate(Clean, Tenants));

    [Fact]
    public void There_are_at_least_fifteen_rules_each_with_a_positive_and_a_negative_case()
    {
        Assert.True(IsolationAuditRules.All.Count >= 15, $"{IsolationAuditRules.All.Count} rules");
        Assert.Equal(IsolationAuditRules.All.Select(r => r.Id).Order(), Positive.Keys.Order());
        Assert.Equal(IsolationAuditRules.All.Select(r => r.Id).Order(), Negative.Keys.Order());
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void Each_rule_finds_what_breaks_isolation_with_an_explanation_and_a_fix(string rule)
    {
        var findings = IsolationAuditRules.Evaluate(Positive[rule](Clean), Tenants);
        var finding = Assert.Single(findings, f => f.Rule == rule);
        Assert.Equal(ExpectedTenant.GetValueOrDefault(rule, ""), finding.Tenant);
        Assert.False(string.IsNullOrWhiteSpace(finding.Object));
        Assert.False(string.IsNullOrWhiteSpace(finding.Explanation));
        Assert.False(string.IsNullOrWhiteSpace(finding.Fix));
        Assert.True(finding.Severity <= IsolationAuditRules.All.Single(r => r.Id == rule).Severity);
    }

    [Theory]
    [MemberData(nameof(Rules))]
    public void Each_rule_stays_quiet_on_its_near_miss(string rule) =>
        Assert.DoesNotContain(IsolationAuditRules.Evaluate(Negative[rule](Clean), Tenants), f => f.Rule == rule);

    [Fact]
    public void An_always_true_policy_gets_a_fix_that_drops_it_and_recreates_the_template()
    {
        var finding = IsolationAuditRules.Evaluate(Positive["policy-always-true"](Clean), Tenants).Single(f => f.Rule == "policy-always-true");
        Assert.Equal(IsolationSeverity.Critical, finding.Severity);
        Assert.Equal("policy leaky on tenant_shared.notes", finding.Object);
        Assert.Equal("DROP POLICY leaky ON tenant_shared.notes; CREATE POLICY tenant_gamma ON tenant_shared.notes AS PERMISSIVE FOR ALL TO tenant_gamma USING (tenant_id = 'gamma') WITH CHECK (tenant_id = 'gamma');", finding.Fix);
    }

    [Theory]
    [InlineData("true", true)]
    [InlineData("(true)", true)]
    [InlineData(" ( 1 = 1 ) ", true)]
    [InlineData("(tenant_id = 'true'::text)", false)]
    [InlineData(null, false)]
    public void Always_true_recognises_the_forms_the_server_deparses(string? expression, bool expected) =>
        Assert.Equal(expected, IsolationAuditRules.AlwaysTrue(expression));

    [Theory]
    [InlineData("notes", "notes")]
    [InlineData("Notes", "\"Notes\"")]
    [InlineData("we\"ird", "\"we\"\"ird\"")]
    public void Names_in_fixes_are_quoted_when_they_need_it(string name, string sql) => Assert.Equal(sql, IsolationAuditRules.Ident(name));

    [Fact]
    public void A_tenant_sees_its_own_and_the_tier_wide_findings_only()
    {
        var findings = IsolationAuditRules.Evaluate(Positive["rls-disabled"](Positive["role-superuser"](Clean)), Tenants);
        var audit = new TierIsolationAudit("content", DateTimeOffset.UnixEpoch, "content-1", TimeSpan.Zero, 4, 10, findings);
        Assert.Equal(["rls-disabled", "role-superuser"], audit.For("acme").Select(f => f.Rule).Order());
        Assert.Equal(["rls-disabled"], audit.For("beta").Select(f => f.Rule));
        Assert.Equal(2, audit.Critical);
    }

    [Fact]
    public void Findings_come_most_severe_first() =>
        Assert.Equal(IsolationSeverity.Critical, IsolationAuditRules.Evaluate(Positive["tenant-key-nullable"](Positive["rls-disabled"](Clean)), Tenants)[0].Severity);

    [Fact]
    public void A_probe_sample_is_of_distinct_pairs_of_distinct_tenants()
    {
        var names = Enumerable.Range(0, 30).Select(i => $"t{i}").ToList();
        var pairs = ProbeSampling.Pairs(names, 25, new Random(7));
        Assert.Equal(25, pairs.Count);
        Assert.Equal(25, pairs.Distinct().Count());
        Assert.All(pairs, p => Assert.NotEqual(p.Prober, p.Target));
        Assert.Equal(6, ProbeSampling.Pairs(["a", "b", "c"], 10, new Random(1)).Count);
        Assert.Empty(ProbeSampling.Pairs(["a"], 10, new Random(1)));
    }

    [Theory]
    [InlineData("AuditInterval", "-00:00:01")]
    [InlineData("ProbeInterval", "00:00:00.5")]
    [InlineData("ProbePairs", "0")]
    [InlineData("AuditTimeout", "00:00:00")]
    public void Bad_schedule_options_are_refused_naming_the_key(string key, string value)
    {
        var options = new TenantAuditOptions();
        var property = typeof(TenantAuditOptions).GetProperty(key)!;
        property.SetValue(options, property.PropertyType == typeof(int) ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(options.Validate(), e => e.StartsWith($"ControlPlane:Tenants:{key} is", StringComparison.Ordinal));
        Assert.Empty(new TenantAuditOptions { AuditInterval = TimeSpan.Zero, ProbeInterval = TimeSpan.Zero }.Validate());
    }

    private static IsolationFacts WithTable(IsolationFacts f, string name, Func<FactTable, FactTable> change) =>
        f with { Tables = [.. f.Tables.Select(t => t.Name == name ? change(t) : t)] };

    private static IsolationFacts WithRole(IsolationFacts f, string name, Func<FactRole, FactRole> change) =>
        f with { Roles = [.. f.Roles.Select(r => r.Name == name ? change(r) : r)] };
}
