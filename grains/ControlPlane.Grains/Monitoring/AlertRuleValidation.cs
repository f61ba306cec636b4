using System.Text.RegularExpressions;

namespace ControlPlane.Grains.Monitoring;

/// <summary>Checks of rules, silences and webhook URLs; each problem names the field, the value and what was expected.</summary>
public static partial class AlertRuleValidation
{
    public static readonly TimeSpan MaxFor = TimeSpan.FromDays(1);
    public static readonly TimeSpan MaxSilence = TimeSpan.FromDays(30);

    public static IReadOnlyList<string> Validate(AlertRule rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var errors = new List<string>();
        if (!NameRegex().IsMatch(rule.Name ?? ""))
            errors.Add($"name '{rule.Name}' is invalid; expected letters and digits starting with a letter (^[A-Za-z][A-Za-z0-9_]{{0,62}}$).");
        if (!MonitoringMetrics.IsKnown(rule.Metric ?? ""))
            errors.Add($"metric '{rule.Metric}' is unknown; expected one of {string.Join(", ", MonitoringMetrics.All.Select(m => m.Name))}.");
        if (!double.IsFinite(rule.Threshold)) errors.Add($"threshold {rule.Threshold} is not a finite number.");
        if (rule.For < TimeSpan.Zero || rule.For > MaxFor) errors.Add($"for {rule.For} is out of range; expected 0 to {MaxFor}.");
        if (!Enum.IsDefined(rule.Comparison)) errors.Add($"comparison {(int)rule.Comparison} is unknown; expected >, >=, < or <=.");
        if (!Enum.IsDefined(rule.Severity)) errors.Add($"severity {(int)rule.Severity} is unknown; expected info, warning or critical.");
        foreach (var label in rule.Labels.Keys.Where(k => !LabelRegex().IsMatch(k)))
            errors.Add($"label name '{label}' is invalid; expected ^[a-z_][a-z0-9_]*$.");
        if (rule.Runbook.Length > 0 && !rule.Runbook.StartsWith("docs/", StringComparison.Ordinal) && HttpUrlProblem(rule.Runbook) is { } problem)
            errors.Add($"runbook {problem}");
        return errors;
    }

    /// <summary>Parses <c>metric op threshold</c> (<c>blocked_sessions &gt; 0</c>); the problem when it does not parse.</summary>
    public static (string Metric, AlertComparison Comparison, double Threshold)? ParseExpression(string expression, out string problem)
    {
        problem = "";
        var match = ExpressionRegex().Match(expression ?? "");
        if (!match.Success)
        {
            problem = $"expression '{expression}' is malformed; expected 'metric OP threshold' with OP one of > >= < <= (e.g. 'blocked_sessions > 0').";
            return null;
        }
        var comparison = match.Groups[2].Value switch
        {
            ">" => AlertComparison.Above,
            ">=" => AlertComparison.AtLeast,
            "<" => AlertComparison.Below,
            _ => AlertComparison.AtMost,
        };
        if (!double.TryParse(match.Groups[3].Value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var threshold))
        {
            problem = $"expression '{expression}' has threshold '{match.Groups[3].Value}', which is not a number.";
            return null;
        }
        return (match.Groups[1].Value, comparison, threshold);
    }

    public static IReadOnlyList<string> Validate(AlertSilence silence, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(silence);
        var errors = new List<string>();
        if (silence.Matchers.Count == 0) errors.Add("matchers are empty; expected at least one name=value (alertname=RULE or a label).");
        if (silence.Ends == default) errors.Add("ends is required; a silence must end.");
        else if (silence.Ends <= silence.Starts) errors.Add($"ends {silence.Ends:O} is not after starts {silence.Starts:O}.");
        else if (silence.Ends <= now) errors.Add($"ends {silence.Ends:O} is in the past.");
        else if (silence.Ends - silence.Starts > MaxSilence) errors.Add($"the silence lasts {silence.Ends - silence.Starts}; expected at most {MaxSilence}.");
        return errors;
    }

    /// <summary>Null when <paramref name="url"/> is an absolute http or https URL, else what is wrong with it.</summary>
    public static string? HttpUrlProblem(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return $"'{url}' is not an absolute URL; expected http://... or https://...";
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) return $"'{url}' has scheme '{uri.Scheme}'; expected http or https.";
        return null;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();

    [GeneratedRegex("^[a-z_][a-z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex LabelRegex();

    [GeneratedRegex(@"^\s*([a-z_][a-z0-9_]*)\s*(>=|<=|>|<)\s*(\S+)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex ExpressionRegex();
}
