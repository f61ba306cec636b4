using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Lint;
using ControlPlane.Migrations.Sets;

namespace ControlPlane.Cli.Migrations;

/// <summary>How lint findings, plans and rules print: compiler-style lines for people, one JSON object for scripts.</summary>
internal static class ChangeOutput
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static string LintText(ParsedMigrationSet set, LintReport report)
    {
        var text = new StringBuilder();
        foreach (var finding in report.Findings)
        {
            text.AppendLine(finding.ToString());
            text.Append("    why: ").AppendLine(finding.Explanation);
            text.Append("    instead: ").AppendLine(Indent(finding.SafeRewrite, "             "));
        }
        foreach (var suppressed in report.Suppressed)
        {
            text.AppendLine($"{suppressed.Finding.FileName}:{suppressed.Finding.Position}: suppressed {suppressed.Finding.RuleId} {suppressed.Finding.Slug} (reason: {suppressed.Reason})");
        }
        text.AppendLine($"{set.Migrations.Count} versions, {report.Statements} statements: {Count(report.Errors, "error")}, {Count(report.Warnings, "warning")}, {report.Suppressed.Count} suppressed");
        return text.ToString();
    }

    public static string LintJson(ParsedMigrationSet set, LintReport report) => JsonSerializer.Serialize(new
    {
        versions = set.Migrations.Count,
        statements = report.Statements,
        errors = report.Errors,
        warnings = report.Warnings,
        findings = report.Findings.Select(Finding),
        suppressed = report.Suppressed.Select(s => new { finding = Finding(s.Finding), reason = s.Reason }),
    }, Json);

    public static string PlanText(IReadOnlyList<PlannedMigration> plan)
    {
        var text = new StringBuilder();
        foreach (var migration in plan)
        {
            text.AppendLine($"V{migration.Version} {migration.FileName} ({(migration.Transactional ? "one transaction" : "no transaction")}), strongest lock {migration.Lock.ToSql()}");
            foreach (var statement in migration.Statements)
            {
                var impact = statement.Impact;
                var tables = string.Join(", ", impact.Locks.GroupBy(l => l.Table.ToString()).Select(g => $"{g.Key} {g.Max(l => l.Level).ToSql()}"));
                var effects = (impact.Rewrites ? " rewrites" : "") + (impact.Scans ? " scans" : "");
                text.AppendLine($"  {impact.Position} {impact.Kind}: {(tables.Length == 0 ? "no table lock" : tables)}{effects}");
            }
        }
        return text.ToString();
    }

    public static string PlanJson(IReadOnlyList<PlannedMigration> plan) => JsonSerializer.Serialize(plan.Select(m => new
    {
        version = m.Version,
        file = m.FileName,
        transactional = m.Transactional,
        strongestLock = m.Lock.ToSql(),
        statements = m.Statements.Select(s => new
        {
            line = s.Impact.Position.Line,
            column = s.Impact.Position.Column,
            kind = s.Impact.Kind,
            lockLevel = s.Impact.Lock.ToSql(),
            locks = s.Impact.Locks.Select(l => new { table = l.Table.ToString(), level = l.Level.ToSql() }),
            rewrites = s.Impact.Rewrites,
            scans = s.Impact.Scans,
            duration = s.Duration,
        }),
    }), Json);

    public static string RulesText()
    {
        var text = new StringBuilder();
        foreach (var rule in MigrationLinter.Rules)
        {
            text.AppendLine($"{rule.Id}  {(rule.Severity == Severity.Error ? "error  " : "warning")}  {rule.Slug}: {rule.Title}");
        }
        return text.ToString();
    }

    public static string RulesJson() => JsonSerializer.Serialize(MigrationLinter.Rules, Json);

    private static object Finding(LintFinding f) => new
    {
        rule = f.RuleId,
        slug = f.Slug,
        severity = f.Severity,
        file = f.FileName,
        line = f.Position.Line,
        column = f.Position.Column,
        message = f.Message,
        explanation = f.Explanation,
        safeRewrite = f.SafeRewrite,
    };

    private static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : "s")}";

    private static string Indent(string text, string indent) => text.Replace("\n", "\n" + indent, StringComparison.Ordinal);
}
