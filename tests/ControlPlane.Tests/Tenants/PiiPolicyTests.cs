using ControlPlane.Grains.Tenants;
using ControlPlane.Postgres.Tenants;
using Xunit;

namespace ControlPlane.Tests.Tenants;

public sealed class PiiPolicyTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 7, 1, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("email", "text", PiiKinds.Email)]
    [InlineData("contact_email", "character varying(120)", PiiKinds.Email)]
    [InlineData("mobile_phone", "text", PiiKinds.Phone)]
    [InlineData("last_login_ip", "inet", PiiKinds.Ip)]
    [InlineData("date_of_birth", "date", PiiKinds.BirthDate)]
    [InlineData("dob", "date", PiiKinds.BirthDate)]
    [InlineData("street_address", "text", PiiKinds.Address)]
    [InlineData("full_name", "text", PiiKinds.Name)]
    [InlineData("passport", "text", PiiKinds.Text)]
    public void A_column_named_like_personal_data_is_suggested_with_its_kind(string column, string type, string kind) =>
        Assert.Equal(kind, PiiPolicy.Guess(column, type)?.Kind);

    [Theory]
    [InlineData("email_verified", "boolean")]
    [InlineData("email_count", "text")]
    [InlineData("id", "bigint")]
    [InlineData("total", "numeric")]
    [InlineData("created_at", "timestamp with time zone")]
    [InlineData("name", "character varying(8)")]
    public void A_column_that_only_mentions_personal_data_or_cannot_hold_a_pseudonym_is_not_suggested(string column, string type) =>
        Assert.Null(PiiPolicy.Guess(column, type));

    [Fact]
    public void Declared_columns_are_not_suggested_again_and_one_table_in_many_tenant_schemas_is_one_suggestion()
    {
        TenantColumn[] columns =
        [
            new("tenant_a", "customers", "email", "text"), new("tenant_b", "customers", "email", "text"),
            new("tenant_a", "customers", "phone", "text"), new("tenant_a", "customers", "id", "integer"),
        ];
        var suggestions = PiiPolicy.Suggest("oltp", columns, [new PiiColumn("oltp", "customers", "phone", PiiKinds.Phone)]);
        var only = Assert.Single(suggestions);
        Assert.Equal(("customers", "email", PiiKinds.Email), (only.Table, only.Column, only.Kind));
        Assert.Equal(["tenant_a", "tenant_b"], only.Schemas);
    }

    [Fact]
    public void A_kind_is_declared_only_on_a_type_that_holds_its_pseudonyms()
    {
        Assert.Null(PiiPolicy.Incompatible(PiiKinds.Ip, "inet"));
        Assert.Null(PiiPolicy.Incompatible(PiiKinds.BirthDate, "date"));
        Assert.Null(PiiPolicy.Incompatible(PiiKinds.Email, "character varying(64)"));
        Assert.Contains("holds 10 characters", PiiPolicy.Incompatible(PiiKinds.Email, "character varying(10)"), StringComparison.Ordinal);
        Assert.NotNull(PiiPolicy.Incompatible(PiiKinds.Email, "inet"));
        Assert.NotNull(PiiPolicy.Incompatible(PiiKinds.Name, "integer"));
    }

    [Fact]
    public void Anonymising_keeps_the_tenants_state_and_is_refused_once_it_is_erased()
    {
        var active = TenantLifecyclePolicy.Decide(TenantLifecycle.Active, null, TenantCommand.Anonymise, ["oltp"], []);
        Assert.True(active.Allowed);
        Assert.Equal((TenantLifecycle.Active, TenantLifecycle.Active), (active.Transient, active.Target));
        Assert.Equal([TenantStepKind.Anonymise, TenantStepKind.Finish], active.Steps.Select(s => s.Kind));
        Assert.Equal(TenantRefusal.Illegal, TenantLifecyclePolicy.Decide(TenantLifecycle.Erased, null, TenantCommand.Anonymise, ["oltp"], []).Refusal);
    }

    [Fact]
    public void The_anonymise_digest_covers_every_column_and_a_report_with_an_original_left_is_not_verified()
    {
        AnonymisedColumn Column(long remaining) => new("tenant_acme.customers", "email", PiiKinds.Email, 3, 3, 3, remaining, "");
        var a = TenantEraseReports.SealAnonymise("acme", "acme.4", At, [new("oltp", "oltp-1", [Column(0)])]);
        var b = TenantEraseReports.SealAnonymise("acme", "acme.4", At, [new("oltp", "oltp-1", [Column(1)])]);
        Assert.True(a.Verified);
        Assert.False(b.Verified);
        Assert.NotEqual(a.Digest, b.Digest);
        Assert.StartsWith("sha256:", a.Digest, StringComparison.Ordinal);
    }
}
