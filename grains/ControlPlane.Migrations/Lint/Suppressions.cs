using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Lint;

/// <summary>
/// Inline suppressions: <c>-- controlplane:ignore CP003[,CP025|slug …] reason: why it is safe here</c>. Read from the
/// scanner's comments only, so the text inside a string or a function body is never a suppression. A suppression
/// covers the statement it sits in, or else the next statement after it.
/// </summary>
internal sealed class Suppression
{
    public const string Marker = "controlplane:ignore";

    public required SqlComment Comment { get; init; }

    public required IReadOnlyList<string> Rules { get; init; }

    public required string Reason { get; init; }

    public int? StatementIndex { get; init; }

    public bool Used { get; set; }

    public bool Covers(LintRule rule, int statementIndex) =>
        StatementIndex == statementIndex
        && Rules.Any(r => string.Equals(r, rule.Id, StringComparison.OrdinalIgnoreCase) || string.Equals(r, rule.Slug, StringComparison.Ordinal));

    /// <summary>The suppressions of a script; a comment that is not one returns nothing.</summary>
    public static IEnumerable<Suppression> Read(ParsedScript script)
    {
        foreach (var comment in script.Comments)
        {
            var body = Body(comment.Text);
            if (!body.StartsWith(Marker, StringComparison.Ordinal))
            {
                continue;
            }
            var rest = body[Marker.Length..];
            var reasonAt = rest.IndexOf("reason:", StringComparison.OrdinalIgnoreCase);
            var ids = (reasonAt < 0 ? rest : rest[..reasonAt])
                .Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            var reason = reasonAt < 0 ? "" : rest[(reasonAt + "reason:".Length)..].Trim();
            yield return new Suppression
            {
                Comment = comment,
                Rules = ids,
                Reason = reason,
                StatementIndex = Target(script, comment),
            };
        }
    }

    /// <summary>The text of a comment without its delimiters.</summary>
    public static string Body(string comment)
    {
        var text = comment.StartsWith("--", StringComparison.Ordinal)
            ? comment[2..]
            : comment.StartsWith("/*", StringComparison.Ordinal) && comment.EndsWith("*/", StringComparison.Ordinal) && comment.Length >= 4
                ? comment[2..^2]
                : comment;
        return text.Trim();
    }

    private static int? Target(ParsedScript script, SqlComment comment)
    {
        foreach (var statement in script.Statements)
        {
            if (comment.ByteStart < statement.ByteStart + statement.ByteLength)
            {
                return statement.Index;
            }
        }
        return null;
    }
}
