using System.CommandLine;
using System.Globalization;

namespace ControlPlane.Bench.Common;

/// <summary>Durations on the command line: <c>500ms</c>, <c>20s</c>, <c>2m</c>, <c>1h</c>; a bare number is seconds.</summary>
public static class DurationArgument
{
    /// <summary>An option of type <see cref="TimeSpan"/> parsed by <see cref="TryParse"/>, with a default.</summary>
    public static Option<TimeSpan> Option(string name, TimeSpan defaultValue, string description) => new(name)
    {
        Description = $"{description} (e.g. 500ms, 20s, 2m; default {Format(defaultValue)})",
        HelpName = "DURATION",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (TryParse(text, out var value)) return value;
            result.AddError($"{name}: '{text}' is not a duration; expected a non-negative number with ms, s, m or h, such as 20s.");
            return default;
        },
    };

    /// <summary>Parses a duration; false for anything else (negative, empty, unknown unit).</summary>
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        text = text.Trim();
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n < 0 || double.IsInfinity(n)) return false;
        value = TimeSpan.FromSeconds(n * scale);
        return true;
    }

    /// <summary>The short form people write: 20s, 500ms, 2m.</summary>
    public static string Format(TimeSpan value) =>
        value.TotalSeconds >= 1 && value.TotalSeconds % 1 == 0
            ? (value.TotalSeconds % 60 == 0 && value.TotalSeconds >= 60
                ? $"{value.TotalMinutes.ToString(CultureInfo.InvariantCulture)}m"
                : $"{value.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s")
            : $"{value.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)}ms";
}
