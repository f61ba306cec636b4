using Xunit;

namespace ControlPlane.Tests.Migrations;

/// <summary>Inline suppressions: a reason is mandatory, names must exist, stale ones are reported.</summary>
public sealed class SuppressionTests
{
    [Fact]
    public void A_suppression_with_a_reason_silences_the_next_statement_and_keeps_the_reason()
    {
        var report = MigrationSets.LintOne("SET lock_timeout = '1s';\n-- controlplane:ignore CP025 reason: staging table, refilled hourly\nTRUNCATE orders_staging;");

        Assert.Empty(report.Findings);
        var suppressed = Assert.Single(report.Suppressed);
        Assert.Equal(("CP025", "staging table, refilled hourly"), (suppressed.Finding.RuleId, suppressed.Reason));
    }

    [Fact]
    public void A_suppression_may_name_the_rule_by_slug_and_several_rules_at_once()
    {
        var report = MigrationSets.LintOne("-- controlplane:ignore truncate, missing-lock-timeout reason: empty staging table\nTRUNCATE orders_staging;");

        Assert.Empty(report.Findings);
        Assert.Equal(2, report.Suppressed.Count);
    }

    [Fact]
    public void A_suppression_inside_the_statement_covers_that_statement()
    {
        var report = MigrationSets.LintOne("SET lock_timeout = '1s';\nTRUNCATE /* controlplane:ignore CP025 reason: staging */ orders_staging;");

        Assert.Empty(report.Findings);
    }

    [Fact]
    public void A_suppression_without_a_reason_is_an_error_and_silences_nothing()
    {
        var report = MigrationSets.LintOne("SET lock_timeout = '1s';\n-- controlplane:ignore CP025\nTRUNCATE orders;");

        Assert.Equal(["CP090", "CP025"], report.RuleIds());
        Assert.Equal(2, report.Findings[0].Position.Line);
    }

    [Fact]
    public void A_suppression_with_an_empty_reason_is_an_error()
    {
        Assert.Contains("CP090", MigrationSets.LintOne("-- controlplane:ignore CP025 reason:   \nTRUNCATE orders;").RuleIds());
    }

    [Fact]
    public void A_suppression_of_an_unknown_rule_is_an_error()
    {
        Assert.Contains("CP091", MigrationSets.LintOne("-- controlplane:ignore CP999 reason: typo\nSELECT 1;").RuleIds());
    }

    [Fact]
    public void A_suppression_that_matches_nothing_is_a_warning()
    {
        var report = MigrationSets.LintOne("-- controlplane:ignore CP025 reason: was a truncate once\nSELECT 1;");

        Assert.Equal(["CP092"], report.RuleIds());
        Assert.False(report.HasErrors);
    }

    [Fact]
    public void A_suppression_only_covers_one_statement()
    {
        var report = MigrationSets.LintOne("SET lock_timeout = '1s';\n-- controlplane:ignore CP025 reason: staging\nTRUNCATE a;\nTRUNCATE b;");

        Assert.Equal(["CP025"], report.RuleIds());
        Assert.Equal(4, report.Findings[0].Position.Line);
    }

    [Fact]
    public void A_suppression_written_in_a_string_literal_is_not_a_suppression()
    {
        var report = MigrationSets.LintOne("SET lock_timeout = '1s';\nSELECT '-- controlplane:ignore CP025 reason: x'; TRUNCATE orders;");

        Assert.Contains("CP025", report.RuleIds());
        Assert.Empty(report.Suppressed);
    }

    [Fact]
    public void A_suppression_in_a_function_body_is_not_a_suppression()
    {
        var report = MigrationSets.LintOne(
            "SET lock_timeout = '1s';\nCREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$\n-- controlplane:ignore CP025 reason: x\nSELECT 1 $$;\nTRUNCATE orders;");

        Assert.Contains("CP025", report.RuleIds());
    }
}
