using ControlPlane.Migrations.Lint;
using Xunit;

namespace ControlPlane.Tests.Migrations;

/// <summary>What earlier statements, the file's header and its undo change about a finding.</summary>
public sealed class LintContextTests
{
    [Fact]
    public void A_table_created_in_the_same_file_is_new_so_locking_it_is_not_flagged()
    {
        var report = MigrationSets.LintOne(
            "CREATE TABLE orders (id bigint PRIMARY KEY, a text);\nCREATE INDEX orders_a_idx ON orders (a);\nALTER TABLE orders ADD COLUMN b text NOT NULL;\nALTER TABLE orders ADD CONSTRAINT a_check CHECK (a <> '');");

        Assert.Empty(report.Findings);
    }

    [Fact]
    public void A_table_created_by_an_earlier_version_is_existing()
    {
        var report = MigrationSets.Lint(
            ("V1__create.sql", "CREATE TABLE orders (id bigint PRIMARY KEY, a text);"),
            ("V2__index.sql", "CREATE INDEX orders_a_idx ON orders (a);"));

        Assert.Contains("CP001", report.RuleIds());
    }

    [Fact]
    public void A_drop_whose_undo_recreates_the_object_is_allowed()
    {
        var report = MigrationSets.Lint(
            ("V1__drop.sql", "DROP TABLE orders_archive;\nALTER TABLE orders DROP COLUMN legacy;\nDROP SCHEMA reporting;"),
            ("U1__drop.sql", "CREATE SCHEMA reporting;\nCREATE TABLE orders_archive (id bigint);\nALTER TABLE orders ADD COLUMN legacy text;"));

        Assert.DoesNotContain(report.Findings, f => f.RuleId is "CP012" or "CP013" or "CP014");
    }

    [Fact]
    public void An_undo_that_recreates_something_else_does_not_excuse_the_drop()
    {
        var report = MigrationSets.Lint(("V1__drop.sql", "DROP TABLE orders_archive;"), ("U1__drop.sql", "CREATE TABLE other (id bigint);"));

        Assert.Contains("CP013", report.RuleIds());
    }

    [Fact]
    public void A_not_null_check_validated_in_an_earlier_version_makes_set_not_null_safe()
    {
        var report = MigrationSets.Lint(
            ("V1__check.sql", "ALTER TABLE orders ADD CONSTRAINT region_nn CHECK (region IS NOT NULL) NOT VALID;"),
            ("V2__validate.sql", "ALTER TABLE orders VALIDATE CONSTRAINT region_nn;"),
            ("V3__not_null.sql", "ALTER TABLE orders ALTER COLUMN region SET NOT NULL;"));

        Assert.DoesNotContain("CP005", report.RuleIds());
    }

    [Fact]
    public void A_not_null_check_that_was_never_validated_does_not_count()
    {
        var report = MigrationSets.Lint(
            ("V1__check.sql", "ALTER TABLE orders ADD CONSTRAINT region_nn CHECK (region IS NOT NULL) NOT VALID;"),
            ("V2__not_null.sql", "ALTER TABLE orders ALTER COLUMN region SET NOT NULL;"));

        Assert.Contains("CP005", report.RuleIds());
    }

    [Fact]
    public void Missing_lock_timeout_is_reported_once_per_file_at_the_first_blocking_statement()
    {
        var report = MigrationSets.LintOne("SELECT 1;\nALTER TABLE a ADD COLUMN x text;\nALTER TABLE b ADD COLUMN y text;");

        var finding = Assert.Single(report.Findings, f => f.RuleId == "CP015");
        Assert.Equal(2, finding.Position.Line);
    }

    [Fact]
    public void Resetting_lock_timeout_to_zero_brings_the_warning_back()
    {
        var report = MigrationSets.LintOne("SET lock_timeout = '1s';\nSET lock_timeout = 0;\nALTER TABLE a ADD COLUMN x text;");

        Assert.Contains("CP015", report.RuleIds());
    }

    [Fact]
    public void Several_alters_of_one_table_are_not_a_pile_up_outside_a_transaction()
    {
        var report = MigrationSets.LintOne(MigrationSets.NoTransaction + "ALTER TABLE orders ADD COLUMN a text;\nALTER TABLE orders ADD COLUMN b text;");

        Assert.DoesNotContain("CP027", report.RuleIds());
    }

    [Fact]
    public void A_directive_after_the_first_statement_is_reported_as_ignored()
    {
        var report = MigrationSets.LintOne("SELECT 1;\n-- controlplane:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);");

        var finding = Assert.Single(report.Findings, f => f.RuleId == "CP031");
        Assert.Equal(2, finding.Position.Line);
        Assert.Contains("CP003", report.RuleIds());
    }

    [Fact]
    public void Findings_carry_the_line_and_column_of_the_column_they_concern()
    {
        var finding = Assert.Single(MigrationSets.LintOne("CREATE TABLE t (\n  id bigint,\n  at timestamp\n);").Findings);

        Assert.Equal(("CP018", 3, 3), (finding.RuleId, finding.Position.Line, finding.Position.Column));
    }

    [Fact]
    public void The_report_counts_errors_warnings_and_statements()
    {
        var report = MigrationSets.LintOne("TRUNCATE orders;\nCREATE TABLE t (at timestamp);");

        Assert.Equal((1, 2, 2), (report.Errors, report.Warnings, report.Statements));
        Assert.True(report.HasErrors);
        Assert.Equal(Severity.Error, report.Findings.First(f => f.RuleId == "CP025").Severity);
    }
}
