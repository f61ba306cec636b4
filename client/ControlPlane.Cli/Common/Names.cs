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

    // \z, not $: "$" also matches before a trailing newline, which would let "oltp\n" through.
    [GeneratedRegex(@"^[a-z][a-z0-9-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();
}
