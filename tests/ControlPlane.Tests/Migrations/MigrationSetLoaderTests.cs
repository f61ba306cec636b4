using System.Security.Cryptography;
using System.Text;
using ControlPlane.Migrations.Parsing;
using ControlPlane.Migrations.Sets;
using Xunit;

namespace ControlPlane.Tests.Migrations;

/// <summary>Reading V/U files into a set: order, checksums, directives, and every way a directory can be wrong.</summary>
public sealed class MigrationSetLoaderTests
{
    [Fact]
    public void Versions_are_ordered_numerically_not_by_name()
    {
        var set = MigrationSets.Of(("V10__c.sql", "SELECT 10;"), ("V2__b.sql", "SELECT 2;"), ("V1__a.sql", "SELECT 1;"));

        Assert.Equal([1L, 2L, 10L], set.Migrations.Select(m => m.Version));
        Assert.Equal("b", set.Migrations[1].Name);
    }

    [Fact]
    public void The_checksum_is_the_sha256_of_the_file_bytes()
    {
        const string sql = "ALTER TABLE t ADD COLUMN a int;\n";
        var set = MigrationSets.Of(("V1__a.sql", sql));

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql))), set.Migrations[0].Forward.Checksum);
    }

    [Fact]
    public void An_undo_file_pairs_with_its_forward_version()
    {
        var set = MigrationSets.Of(("V3__drop.sql", "DROP TABLE t;"), ("U3__drop.sql", "CREATE TABLE t (id bigint);"));

        Assert.Equal("U3__drop.sql", set.Migrations[0].Undo?.FileName);
    }

    [Fact]
    public void The_no_transaction_header_directive_marks_the_file_non_transactional()
    {
        var set = MigrationSets.Of(
            ("V1__a.sql", "-- index built online\n-- controlplane:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);"),
            ("V2__b.sql", "SELECT 1;\n-- controlplane:no-transaction\n"));

        Assert.False(set.Migrations[0].Forward.Transactional);
        Assert.True(set.Migrations[1].Forward.Transactional);
    }

    [Fact]
    public void The_contract_header_directive_is_read()
    {
        var set = MigrationSets.Of(("V1__a.sql", "-- controlplane:contract\nDROP TABLE t;"));

        Assert.True(set.Migrations[0].Forward.Contract);
    }

    [Fact]
    public void Duplicate_versions_are_an_error_naming_both_files()
    {
        var error = Assert.Throws<MigrationSetException>(() => MigrationSets.Of(("V1__a.sql", "SELECT 1;"), ("V01__b.sql", "SELECT 1;")));

        var single = Assert.Single(error.Errors);
        Assert.Equal("V1__a.sql", single.FileName);
        Assert.Contains("V01__b.sql", single.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("V1_a.sql")]
    [InlineData("v1__a.sql")]
    [InlineData("V__a.sql")]
    [InlineData("V1__.sql")]
    [InlineData("Vx__a.sql")]
    [InlineData("R1__a.sql")]
    [InlineData("V1__a b.sql")]
    [InlineData("V99999999999999999999__a.sql")]
    public void A_malformed_file_name_is_an_error_naming_the_file(string name)
    {
        var error = Assert.Throws<MigrationSetException>(() => MigrationSets.Of(("V1__ok.sql", "SELECT 1;"), (name, "SELECT 1;")));

        Assert.Equal(name, Assert.Single(error.Errors).FileName);
    }

    [Fact]
    public void An_undo_without_its_forward_file_is_an_error()
    {
        var error = Assert.Throws<MigrationSetException>(() => MigrationSets.Of(("V1__a.sql", "SELECT 1;"), ("U2__b.sql", "SELECT 1;")));

        Assert.Equal("U2__b.sql", Assert.Single(error.Errors).FileName);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var error = Assert.Throws<MigrationSetException>(() => MigrationSets.Of(
            ("V1__a.sql", "SELECT 1;"), ("V1__b.sql", "SELECT 1;"), ("bad.sql", ""), ("U9__x.sql", "")));

        Assert.Equal(3, error.Errors.Count);
    }

    [Fact]
    public void A_set_without_forward_files_is_an_error()
    {
        Assert.Throws<MigrationSetException>(() => MigrationSets.Of());
    }

    [Fact]
    public void A_missing_directory_is_an_error_naming_it()
    {
        var error = Assert.Throws<MigrationSetException>(() => MigrationSetLoader.FromDirectory("/nonexistent/migrations"));

        Assert.Contains("/nonexistent/migrations", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_is_read_ignoring_files_that_are_not_sql()
    {
        var dir = Directory.CreateTempSubdirectory("cp-migrations-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "V1__a.sql"), "SELECT 1;");
            File.WriteAllText(Path.Combine(dir.FullName, "README.md"), "notes");

            Assert.Single(MigrationSetLoader.FromDirectory(dir.FullName).Migrations);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void Malformed_sql_is_an_error_with_file_line_and_column()
    {
        var error = Assert.Throws<MigrationSetException>(() => MigrationSets.Parsed(("V1__a.sql", "SELECT 1;\nCREATE TABLE (;")));

        var single = Assert.Single(error.Errors);
        Assert.Equal("V1__a.sql", single.FileName);
        Assert.StartsWith("2:14: syntax error", single.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_parsed_set_keeps_the_undo_parse()
    {
        var set = MigrationSets.Parsed(("V1__a.sql", "DROP TABLE t;"), ("U1__a.sql", "CREATE TABLE t (id bigint);"));

        Assert.Equal("CreateStmt", set.Migrations[0].Undo!.Statements[0].Kind);
        Assert.IsType<SourcePosition>(set.Migrations[0].Forward.Statements[0].Position);
    }
}
