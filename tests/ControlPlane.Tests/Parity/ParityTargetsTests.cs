using ControlPlane.Grains.Parity;
using Xunit;

namespace ControlPlane.Tests.Parity;

public sealed class ParityTargetsTests
{
    [Theory]
    [InlineData("oltp", "oltp", "", "")]
    [InlineData("oltp/appdb", "oltp", "appdb", "")]
    [InlineData("oltp/appdb/tenant_acme", "oltp", "appdb", "tenant_acme")]
    public void A_tier_target_names_its_tier_database_and_schema(string text, string tier, string database, string schema)
    {
        var target = ParityTargets.Parse("target", text, allowSequence: false);

        Assert.Equal(new ParityTargetRef(tier, database, schema, "", null), target);
    }

    [Fact]
    public void A_tenant_target_names_the_tenant_and_optionally_its_tier()
    {
        Assert.Equal(new ParityTargetRef("", "", "", "acme", null), ParityTargets.Parse("target", "tenant:acme", false));
        Assert.Equal(new ParityTargetRef("oltp", "", "", "acme", null), ParityTargets.Parse("target", "tenant:acme@oltp", false));
    }

    [Fact]
    public void A_diff_side_may_name_a_stored_snapshot_after_an_at_sign()
    {
        Assert.Equal(new ParityTargetRef("oltp", "appdb", "s", "", 3), ParityTargets.Parse("a", "oltp/appdb/s@3", true));
        Assert.Equal(new ParityTargetRef("oltp", "", "", "acme", 12), ParityTargets.Parse("a", "tenant:acme@oltp@12", true));
        Assert.Equal(new ParityTargetRef("", "", "", "acme", 2), ParityTargets.Parse("a", "tenant:acme@2", true));
    }

    [Theory]
    [InlineData("", "target is required")]
    [InlineData("Oltp", "the tier must match")]
    [InlineData("oltp/app db", "the database 'app db' must match")]
    [InlineData("oltp/appdb/s;drop", "the schema 's;drop' must match")]
    [InlineData("oltp/a/b/c", "expected TIER")]
    [InlineData("tenant:", "expected tenant:NAME")]
    [InlineData("tenant:a@b@c", "expected tenant:NAME")]
    [InlineData("oltp@3", "a stored snapshot (@N) cannot be taken again")]
    public void A_malformed_target_is_refused_with_a_message_naming_the_field_and_the_forms(string text, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => ParityTargets.Parse("target", text, allowSequence: false));

        Assert.StartsWith("target", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Snapshot_zero_does_not_exist()
    {
        var e = Assert.Throws<ArgumentException>(() => ParityTargets.Parse("b", "oltp@0", allowSequence: true));

        Assert.Contains("b 'oltp@0' is invalid: the snapshot number after @ must be 1 or more", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_canonical_key_leaves_out_an_empty_schema()
    {
        Assert.Equal("oltp/appdb", new ParityTarget("oltp", "appdb", "").Key);
        Assert.Equal("oltp/appdb/s", new ParityTarget("oltp", "appdb", "s").Key);
    }

    [Fact]
    public void The_default_options_are_valid_and_bad_ones_are_named()
    {
        Assert.Empty(new ParityOptions().Validate());
        var errors = new ParityOptions { Interval = TimeSpan.FromSeconds(-1), TemplateSchema = "bad name", MaxSnapshots = 0 }.Validate();
        Assert.Contains(errors, e => e.StartsWith("ControlPlane:Parity:Interval", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ControlPlane:Parity:TemplateSchema 'bad name'", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("ControlPlane:Parity:MaxSnapshots 0", StringComparison.Ordinal));
    }
}
