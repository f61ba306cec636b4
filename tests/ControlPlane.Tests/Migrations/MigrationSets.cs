using System.Text;
using ControlPlane.Migrations.Lint;
using ControlPlane.Migrations.Parsing;
using ControlPlane.Migrations.Sets;

namespace ControlPlane.Tests.Migrations;

/// <summary>Builds sets from in-memory files and lints them, as the CLI and the grain do from a directory or an upload.</summary>
internal static class MigrationSets
{
    public const string NoTransaction = "-- controlplane:no-transaction\n";

    public static MigrationSet Of(params (string Name, string Sql)[] files) =>
        MigrationSetLoader.FromFiles(files.Select(f => new MigrationSource(f.Name, Encoding.UTF8.GetBytes(f.Sql))));

    public static ParsedMigrationSet Parsed(params (string Name, string Sql)[] files) =>
        ParsedMigrationSet.Parse(Of(files), SqlParser.Shared);

    public static LintReport Lint(params (string Name, string Sql)[] files) => MigrationLinter.Lint(Parsed(files));

    /// <summary>Lints one file, V1__change.sql.</summary>
    public static LintReport LintOne(string sql) => Lint(("V1__change.sql", sql));

    public static IReadOnlyList<string> RuleIds(this LintReport report) => report.Findings.Select(f => f.RuleId).ToArray();
}
