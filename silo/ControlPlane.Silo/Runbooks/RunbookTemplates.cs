using System.Collections.Concurrent;
using Scriban;
using Scriban.Runtime;

namespace ControlPlane.Silo.Runbooks;

/// <summary>
/// The runbook templates (Scriban, embedded as <c>runbooks/KIND.md.sbn</c>), parsed once, rendered strictly: an
/// unknown variable or member is an error rather than an empty string, so a template that drifts from
/// <see cref="RunbookFacts"/> fails its unit test instead of printing a runbook with holes.
/// </summary>
public static class RunbookTemplates
{
    private static readonly ConcurrentDictionary<string, Template> Parsed = new(StringComparer.Ordinal);

    /// <summary>Renders <paramref name="kind"/> over <paramref name="facts"/>. ArgumentException for an unknown kind.</summary>
    public static string Render(string kind, RunbookFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (!RunbookKinds.IsKnown(kind)) throw new ArgumentException($"kind '{kind}' is not a runbook; expected one of {RunbookKinds.Expected}.", nameof(kind));
        var template = Parsed.GetOrAdd(kind, Load);
        var globals = new ScriptObject();
        globals.Import(facts, renamer: StandardMemberRenamer.Default);
        var context = new TemplateContext
        {
            StrictVariables = true,
            EnableRelaxedMemberAccess = false,
            MemberRenamer = StandardMemberRenamer.Default,
        };
        context.PushGlobal(globals);
        return template.Render(context);
    }

    private static Template Load(string kind)
    {
        var name = $"runbooks/{kind}.md.sbn";
        using var stream = typeof(RunbookTemplates).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"runbook template {name} is not embedded in the silo");
        using var reader = new StreamReader(stream);
        var template = Template.Parse(reader.ReadToEnd(), name);
        if (template.HasErrors) throw new InvalidOperationException($"runbook template {name}: {string.Join("; ", template.Messages)}");
        return template;
    }

    /// <summary>The first markdown heading, without '#'.</summary>
    public static string Title(string markdown) =>
        markdown.Split('\n').FirstOrDefault(l => l.StartsWith("# ", StringComparison.Ordinal))?[2..].Trim() ?? "";
}
