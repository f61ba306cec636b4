using System.Text.Json;
using Xunit;

namespace ControlPlane.Tests.Cli;

/// <summary>cpctl change lint|plan-local|rules run locally on a directory: findings, JSON and exit codes.</summary>
public sealed class ChangeLintCommandTests : IDisposable
{
    private readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("cp-change-lint-");

    public void Dispose() => dir.Delete(true);

    private void Write(string name, string sql) => File.WriteAllText(Path.Combine(dir.FullName, name), sql);

    [Fact]
    public async Task Lint_exits_0_when_the_set_has_only_warnings()
    {
        Write("V1__create.sql", "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamp);");

        var (code, output, _) = await CpctlRun.RunAsync("change", "lint", dir.FullName);

        Assert.Equal(0, code);
        Assert.Contains("V1__create.sql:1:", output, StringComparison.Ordinal);
        Assert.Contains("warning CP018 timestamp-without-time-zone", output, StringComparison.Ordinal);
        Assert.Contains("0 errors, 1 warning", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lint_exits_1_with_each_error_its_reason_and_rewrite()
    {
        Write("V1__create.sql", "CREATE TABLE orders (id bigint PRIMARY KEY, a text);");
        Write("V2__index.sql", "SET lock_timeout = '2s';\nCREATE INDEX orders_a_idx ON orders (a);");

        var (code, output, _) = await CpctlRun.RunAsync("change", "lint", dir.FullName);

        Assert.Equal(1, code);
        Assert.Contains("V2__index.sql:2:1: error CP001 create-index-not-concurrently", output, StringComparison.Ordinal);
        Assert.Contains("instead: Move it to a file headed '-- controlplane:no-transaction'", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lint_json_is_one_object_with_counts_and_findings()
    {
        Write("V1__t.sql", "SET lock_timeout = '1s';\nTRUNCATE orders;");

        var (code, output, _) = await CpctlRun.RunAsync("change", "lint", dir.FullName, "--json");

        Assert.Equal(1, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(1, json.RootElement.GetProperty("errors").GetInt32());
        var finding = json.RootElement.GetProperty("findings")[0];
        Assert.Equal(("CP025", "error", 2), (finding.GetProperty("rule").GetString(), finding.GetProperty("severity").GetString(), finding.GetProperty("line").GetInt32()));
    }

    [Fact]
    public async Task Lint_of_a_missing_directory_exits_2_naming_it()
    {
        var (code, _, error) = await CpctlRun.RunAsync("change", "lint", Path.Combine(dir.FullName, "nope"));

        Assert.Equal(2, code);
        Assert.Contains("nope' does not exist", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lint_of_malformed_sql_exits_2_with_file_line_and_column()
    {
        Write("V1__bad.sql", "SELECT 1;\nALTER TABLE orders ADD COLUMN;");

        var (code, _, error) = await CpctlRun.RunAsync("change", "lint", dir.FullName);

        Assert.Equal(2, code);
        Assert.Contains("V1__bad.sql: 2:30: syntax error", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Lint_of_duplicate_versions_exits_2_naming_both_files()
    {
        Write("V1__a.sql", "SELECT 1;");
        Write("V001__b.sql", "SELECT 1;");

        var (code, _, error) = await CpctlRun.RunAsync("change", "lint", dir.FullName);

        Assert.Equal(2, code);
        Assert.Contains("V001__b.sql", error, StringComparison.Ordinal);
        Assert.Contains("V1__a.sql", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_local_shows_each_statement_lock_and_rewrite()
    {
        Write("V1__t.sql", "ALTER TABLE orders ALTER COLUMN a TYPE bigint;");

        var (code, output, _) = await CpctlRun.RunAsync("change", "plan-local", dir.FullName);

        Assert.Equal(0, code);
        Assert.Contains("1:1 AlterTableStmt: orders ACCESS EXCLUSIVE rewrites", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rules_lists_every_rule()
    {
        var (code, output, _) = await CpctlRun.RunAsync("change", "rules");

        Assert.Equal(0, code);
        Assert.Contains("CP001  error    create-index-not-concurrently", output, StringComparison.Ordinal);
    }
}

/// <summary>The commands docs/migrations.md shows, on the example sets it names.</summary>
public sealed class ChangeLintDocsExamplesTests
{
    private static string Example(string name)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ControlPlane.sln"))) dir = dir.Parent;
        return Path.Combine(dir?.FullName ?? throw new DirectoryNotFoundException("ControlPlane.sln"), "docs", "examples", "migrations", name);
    }

    [Fact]
    public async Task The_oltp_example_passes_with_one_warning()
    {
        var (code, output, _) = await CpctlRun.RunAsync("change", "lint", Example("oltp"));

        Assert.Equal(0, code);
        Assert.Contains("4 versions, 9 statements: 0 errors, 1 warning, 0 suppressed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_unsafe_example_fails_on_its_plain_create_index()
    {
        var (code, output, _) = await CpctlRun.RunAsync("change", "lint", Example("unsafe"));

        Assert.Equal(1, code);
        Assert.StartsWith("V2__index.sql:2:1: error CP001 create-index-not-concurrently", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_oltp_example_plan_shows_the_concurrent_build()
    {
        var (code, output, _) = await CpctlRun.RunAsync("change", "plan-local", Example("oltp"));

        Assert.Equal(0, code);
        Assert.Contains("3:1 IndexStmt: orders SHARE UPDATE EXCLUSIVE scans", output, StringComparison.Ordinal);
    }
}
