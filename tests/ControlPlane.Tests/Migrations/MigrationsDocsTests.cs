using ControlPlane.Migrations.Lint;
using Xunit;

namespace ControlPlane.Tests.Migrations;

/// <summary>docs/migrations.md documents every lint rule under its id and slug, so the doc cannot drift from the code.</summary>
public sealed class MigrationsDocsTests
{
    [Fact]
    public void Every_rule_has_a_section_with_its_id_slug_and_severity()
    {
        var doc = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "migrations.md"));
        var missing = MigrationLinter.Rules
            .Where(r => !doc.Contains($"### {r.Id} `{r.Slug}` ({(r.Severity == Severity.Error ? "error" : "warning")})", StringComparison.Ordinal))
            .Select(r => $"{r.Id} {r.Slug}")
            .ToList();
        Assert.True(missing.Count == 0, "docs/migrations.md lacks sections for: " + string.Join(", ", missing));
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ControlPlane.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("ControlPlane.sln not found above " + AppContext.BaseDirectory);
    }
}
