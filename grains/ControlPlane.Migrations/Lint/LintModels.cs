using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Lint;

public enum Severity
{
    Warning,
    Error,
}

/// <summary>
/// A lint rule's identity and documentation. <see cref="Id"/> (CP001…) never changes meaning; <see cref="Slug"/>
/// is the readable alias a suppression may use instead.
/// </summary>
public sealed record LintRule(string Id, string Slug, Severity Severity, string Title, string Explanation, string Example, string SafeRewrite);

/// <summary>One finding: which rule, where, what the statement does and what to write instead.</summary>
public sealed record LintFinding(
    string RuleId,
    string Slug,
    Severity Severity,
    string FileName,
    SourcePosition Position,
    string Message,
    string Explanation,
    string SafeRewrite)
{
    public override string ToString() =>
        $"{FileName}:{Position.Line}:{Position.Column}: {(Severity == Severity.Error ? "error" : "warning")} {RuleId} {Slug}: {Message}";
}

/// <summary>A set's lint result: findings in file and position order, and those an inline suppression silenced.</summary>
public sealed record LintReport(IReadOnlyList<LintFinding> Findings, IReadOnlyList<SuppressedFinding> Suppressed, int Statements)
{
    public int Errors => Findings.Count(f => f.Severity == Severity.Error);

    public int Warnings => Findings.Count(f => f.Severity == Severity.Warning);

    public bool HasErrors => Errors > 0;
}

/// <summary>A finding an author silenced, with the reason they gave (kept for review and audit).</summary>
public sealed record SuppressedFinding(LintFinding Finding, string Reason);

/// <summary>What a rule reports for one statement: a message naming the objects, and the rewrite for this case.</summary>
public sealed record RuleHit(string Message, string SafeRewrite, SourcePosition? Position = null);
