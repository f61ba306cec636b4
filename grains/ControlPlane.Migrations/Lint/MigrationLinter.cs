using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Lint.Rules;
using ControlPlane.Migrations.Parsing;
using ControlPlane.Migrations.Sets;

namespace ControlPlane.Migrations.Lint;

/// <summary>
/// The zero-downtime lint: every rule over every statement of a parsed set, in version order, on the parse tree
/// only. Pure: no database; what a target's tables hold is the plan's business, not the lint's.
/// </summary>
public static class MigrationLinter
{
    private static readonly Rule[] StatementRules =
    [
        .. IndexRules.All, .. ColumnRules.All, .. ConstraintRules.All, .. DropRules.All, .. TypeRules.All,
        .. TableRules.All, .. TransactionRules.All,
    ];

    /// <summary>Every rule, statement and file rules alike, by id.</summary>
    public static IReadOnlyList<LintRule> Rules { get; } =
        [.. StatementRules.Select(r => r.Info).Concat(FileRules.All).OrderBy(r => r.Id, StringComparer.Ordinal)];

    public static LintReport Lint(ParsedMigrationSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var findings = new List<LintFinding>();
        var suppressed = new List<SuppressedFinding>();
        var facts = new SetFacts();
        var statements = 0;
        foreach (var migration in set.Migrations)
        {
            statements += migration.Forward.Statements.Count;
            LintFile(migration, facts, findings, suppressed);
        }
        return new LintReport(findings, suppressed, statements);
    }

    private static void LintFile(ParsedMigration migration, SetFacts facts, List<LintFinding> setFindings, List<SuppressedFinding> suppressed)
    {
        var findings = new List<LintFinding>();
        var script = migration.Forward;
        var file = migration.Migration.Forward.FileName;
        var suppressions = Suppression.Read(script).ToList();
        foreach (var bad in suppressions.Where(s => s.Reason.Length == 0))
        {
            findings.Add(Finding(FileRules.SuppressionWithoutReason, file, bad.Comment.Position,
                $"'{bad.Comment.Text.Trim()}' gives no reason", "-- controlplane:ignore <rule> reason: <why it is safe here>"));
        }
        foreach (var bad in suppressions)
        {
            foreach (var unknown in bad.Rules.Where(r => !Rules.Any(k => string.Equals(k.Id, r, StringComparison.OrdinalIgnoreCase) || k.Slug == r)))
            {
                findings.Add(Finding(FileRules.UnknownRule, file, bad.Comment.Position,
                    $"no rule is called '{unknown}'", "Use a rule id (CP001) or slug from cpctl change rules."));
            }
        }
        suppressions.RemoveAll(s => s.Reason.Length == 0);
        MisplacedDirectives(script, file, findings);

        var ctx = new StatementContext(migration, facts);
        foreach (var statement in script.Statements)
        {
            ctx.Statement = statement;
            ctx.Impact = ImpactAnalyzer.Analyze(statement);
            foreach (var rule in StatementRules)
            {
                foreach (var hit in rule.Check(ctx))
                {
                    var finding = Finding(rule.Info, file, hit.Position ?? statement.Position, hit.Message, hit.SafeRewrite);
                    var suppression = suppressions.FirstOrDefault(s => s.Covers(rule.Info, statement.Index));
                    if (suppression is null)
                    {
                        findings.Add(finding);
                    }
                    else
                    {
                        suppression.Used = true;
                        suppressed.Add(new SuppressedFinding(finding, suppression.Reason));
                    }
                }
            }
            Learn(ctx, facts);
        }
        foreach (var stale in suppressions.Where(s => !s.Used))
        {
            findings.Add(Finding(FileRules.UnusedSuppression, file, stale.Comment.Position,
                $"'{string.Join(", ", stale.Rules)}' is suppressed but the statement does not trigger it", "Remove the comment."));
        }
        setFindings.AddRange(findings.OrderBy(f => f.Position.Line).ThenBy(f => f.Position.Column));
    }

    private static void MisplacedDirectives(ParsedScript script, string file, List<LintFinding> findings)
    {
        if (script.Statements.Count == 0)
        {
            return;
        }
        var firstStatement = script.Statements[0].ByteStart;
        foreach (var comment in script.Comments.Where(c => c.ByteStart > firstStatement))
        {
            var body = Suppression.Body(comment.Text);
            if (body.StartsWith(MigrationSetLoader.NoTransactionDirective, StringComparison.Ordinal)
                || body.StartsWith(MigrationSetLoader.ContractDirective, StringComparison.Ordinal))
            {
                findings.Add(Finding(FileRules.MisplacedDirective, file, comment.Position,
                    $"'{body}' after the first statement is ignored", "Move it to the header, above the first statement."));
            }
        }
    }

    // What a statement establishes for the statements after it.
    private static void Learn(StatementContext ctx, SetFacts facts)
    {
        var statement = ctx.Statement;
        if (!ctx.LockTimeoutSet && ctx.Impact.Locks.Any(l => l.Level >= LockLevel.Share && ctx.Existing(l.Table)))
        {
            ctx.LockTakenWithoutTimeout = true;
        }
        ctx.CreatedInFile.AddRange(ctx.Impact.Creates);
        if (statement.Kind == "VariableSetStmt" && statement.Node.Str("name") == "lock_timeout")
        {
            ctx.LockTimeoutSet = statement.Node.Str("kind") == "VAR_SET_VALUE" && !IsZero(statement.Node);
        }
        if (statement.Kind == "AlterTableStmt")
        {
            foreach (var table in ctx.Impact.Locks.Where(l => l.Level >= LockLevel.ShareRowExclusive && ctx.Existing(l.Table)).Select(l => l.Table.ToString()).Distinct())
            {
                ctx.LockingAlters[table] = ctx.LockingAlters.GetValueOrDefault(table) + 1;
            }
        }
        foreach (var (table, cmd) in Statements.AlterCommands(ctx))
        {
            if (cmd.Str("subtype") == "AT_AddConstraint" && cmd.Field("def").Is("Constraint", out var check)
                && check.Str("contype") == "CONSTR_CHECK" && NotNullColumn(check) is { } column)
            {
                facts.NotNullChecks.Add((table, check.Str("conname"), column));
                if (!check.Bool("skip_validation"))
                {
                    facts.ValidatedNotNull.Add((table, column));
                }
            }
            if (cmd.Str("subtype") == "AT_ValidateConstraint")
            {
                foreach (var known in facts.NotNullChecks.Where(c => c.Table.Matches(table) && c.Constraint == cmd.Str("name")).ToArray())
                {
                    facts.ValidatedNotNull.Add((table, known.Column));
                }
            }
        }
    }

    // CHECK (column IS NOT NULL): the one shape that lets SET NOT NULL skip its scan.
    private static string? NotNullColumn(System.Text.Json.JsonElement check)
    {
        if (check.Field("raw_expr").Is("NullTest", out var test) && test.Str("nulltesttype") == "IS_NOT_NULL"
            && test.Field("arg").Is("ColumnRef", out var column))
        {
            var names = column.Names("fields");
            return names.Count == 1 ? names[0] : null;
        }
        return null;
    }

    private static bool IsZero(System.Text.Json.JsonElement set)
    {
        var value = set.Items("args").Select(a => a.Field("A_Const")).FirstOrDefault();
        return value.Field("ival").ValueKind == System.Text.Json.JsonValueKind.Object
            ? value.Field("ival").Int("ival") == 0
            : value.Field("sval").Str("sval").TrimEnd('s', 'm') is "0" or "";
    }

    private static LintFinding Finding(LintRule rule, string file, SourcePosition position, string message, string rewrite) =>
        new(rule.Id, rule.Slug, rule.Severity, file, position, message, rule.Explanation, rewrite);
}
