namespace ControlPlane.Migrations.Lint.Rules;

/// <summary>Rules about the file's comments rather than a statement: directives and suppressions.</summary>
internal static class FileRules
{
    public static readonly LintRule MisplacedDirective = new("CP031", "misplaced-directive", Severity.Error,
        "A file directive after the first statement",
        "Directives (no-transaction, contract) are read from the file's header only; one written later is ignored, so the file does not run the way its author meant.",
        "ALTER TABLE orders ADD COLUMN note text;\n-- controlplane:no-transaction",
        "-- controlplane:no-transaction\nCREATE INDEX CONCURRENTLY …;");

    public static readonly LintRule SuppressionWithoutReason = new("CP090", "suppression-without-reason", Severity.Error,
        "Suppression without a reason",
        "Every suppression says why the rule does not apply here, so reviewers and the audit log can judge it.",
        "-- controlplane:ignore CP025",
        "-- controlplane:ignore CP025 reason: staging table, refilled by the loader every run");

    public static readonly LintRule UnknownRule = new("CP091", "suppression-of-unknown-rule", Severity.Error,
        "Suppression naming an unknown rule",
        "A misspelt rule id silences nothing while looking as if it did.",
        "-- controlplane:ignore CP999 reason: …",
        "-- controlplane:ignore CP025 reason: …   (ids and slugs: cpctl change rules)");

    public static readonly LintRule UnusedSuppression = new("CP092", "unused-suppression", Severity.Warning,
        "Suppression that matched nothing",
        "The statement after it no longer triggers the rule: the suppression is stale and would silence a future finding.",
        "-- controlplane:ignore CP001 reason: empty table\nCREATE INDEX CONCURRENTLY …;",
        "Remove the comment.");

    public static IEnumerable<LintRule> All => [MisplacedDirective, SuppressionWithoutReason, UnknownRule, UnusedSuppression];
}
