using System.Text.RegularExpressions;

namespace ControlPlane.Cli.Common;

/// <summary>The naming rule of tiers, replicas and environments, checked before anything is sent.</summary>
internal static partial class Names
{
    public const string Pattern = "^[a-z][a-z0-9-]{0,62}$";

    public static bool IsValid(string? value) => value is not null && NameRegex().IsMatch(value);

    /// <summary>Null when <paramref name="value"/> is a valid name, else an error naming <paramref name="argument"/>.</summary>
    public static string? Check(string? value, string argument) =>
        IsValid(value)
            ? null
            : $"{argument}: '{value}' is not a valid name; expected {Pattern} (lowercase letter, then up to 62 lowercase letters, digits or '-')";

    /// <summary>
    /// The integer an option was given, or null when its token is not one (the parser reports that itself);
    /// validators must not read a value that failed to convert, System.CommandLine throws on it.
    /// </summary>
    public static int? ParsedInt(System.CommandLine.Parsing.OptionResult result) =>
        result.Tokens.Count == 1 && int.TryParse(result.Tokens[0].Value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    // \z, not $: "$" also matches before a trailing newline, which would let "oltp\n" through.
    [GeneratedRegex(@"^[a-z][a-z0-9-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();
}
