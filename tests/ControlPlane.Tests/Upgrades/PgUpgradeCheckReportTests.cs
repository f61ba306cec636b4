using ControlPlane.Postgres.Upgrades;
using Xunit;

namespace ControlPlane.Tests.Upgrades;

/// <summary>Reading pg_upgrade --check's report (the layout PostgreSQL 15's pg_upgrade prints; checked against a real run).</summary>
public sealed class PgUpgradeCheckReportTests
{
    [Fact]
    public void Compatible_clusters_count_every_passed_check_and_have_no_findings()
    {
        var report = PgUpgradeCheckReport.Parse("""
            Performing Consistency Checks
            -----------------------------
            Checking cluster versions                                   ok
            Checking database user is the install user                  ok
            Checking for system-defined composite types in user tables  ok
            Checking for presence of required libraries                 ok

            *Clusters are compatible*
            """);
        Assert.Equal(4, report.Passed);
        Assert.True(report.Compatible);
        Assert.Empty(report.Findings);
    }

    [Fact]
    public void A_fatal_check_is_a_finding_with_the_explanation_pg_upgrade_gave()
    {
        var report = PgUpgradeCheckReport.Parse("""
            Performing Consistency Checks
            -----------------------------
            Checking cluster versions                                   ok
            Checking database connection settings                       fatal

            All non-template0 databases must allow connections.  Your installation
            contains databases that do not.  A list is in the file:
                new/pg_upgrade_output.d/x/databases_with_datallowconn_false.txt

            Failure, exiting
            """);
        Assert.Equal(1, report.Passed);
        Assert.False(report.Compatible);
        var finding = Assert.Single(report.Findings);
        Assert.StartsWith("Checking database connection settings (fatal): All non-template0 databases must allow connections.", finding, StringComparison.Ordinal);
        Assert.Contains("databases_with_datallowconn_false.txt", finding, StringComparison.Ordinal);
    }

    [Fact]
    public void A_check_that_stopped_pg_upgrade_without_a_status_word_is_a_finding()
    {
        var report = PgUpgradeCheckReport.Parse("""
            Checking cluster versions                                   ok
            Checking for prepared transactions
            The source cluster contains prepared transactions

            Failure, exiting
            """);
        Assert.Equal(["Checking for prepared transactions: The source cluster contains prepared transactions"], report.Findings);
        Assert.False(report.Compatible);
    }

    [Fact]
    public void A_check_longer_than_the_message_width_still_reads_its_status() =>
        Assert.Equal(1, PgUpgradeCheckReport.Parse("Checking for a very long name of a check that overflows the padding widthok\n").Passed);
}
