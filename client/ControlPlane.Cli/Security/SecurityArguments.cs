using System.CommandLine;
using System.Globalization;
using System.Text.RegularExpressions;
using ControlPlane.Cli.Common;

namespace ControlPlane.Cli.Security;

/// <summary>Arguments of the token and audit commands, validated at parse time so bad input exits 2.</summary>
internal static partial class SecurityArguments
{
    public static readonly string[] RoleNames = ["viewer", "operator", "admin"];

    /// <summary>"90s", "15m", "12h", "30d", "2w" to a duration; null when malformed or not positive.</summary>
    public static TimeSpan? ParseDuration(string? value)
    {
        var match = value is null ? null : DurationRegex().Match(value.Trim());
        if (match is null || !match.Success) return null;
        var n = long.Parse(match.Groups["n"].Value, NumberStyles.None, CultureInfo.InvariantCulture);
        var seconds = match.Groups["unit"].Value switch
        {
            "s" => n,
            "m" => n * 60,
            "h" => n * 3600,
            "d" => n * 86_400,
            _ => n * 604_800,
        };
        return seconds > 0 ? TimeSpan.FromSeconds(seconds) : null;
    }

    public static Option<string?> Duration(string name, string description)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = "DURATION" };
        option.Validators.Add(result =>
        {
            if (ParseDuration(result.GetValueOrDefault<string?>()) is null)
                result.AddError($"{name}: '{result.GetValueOrDefault<string?>()}' is not a duration; expected a number and a unit s, m, h, d or w (e.g. 30d)");
        });
        return option;
    }

    public static Argument<string> Name(string argumentName, string description)
    {
        var argument = new Argument<string>(argumentName) { Description = description };
        argument.Validators.Add(result =>
        {
            if (Names.Check(result.GetValueOrDefault<string>(), argumentName) is { } error) result.AddError(error);
        });
        return argument;
    }

    public static Option<string[]> Tenants()
    {
        var option = new Option<string[]>("--tenant")
        {
            Description = "Limit the token to this tenant (repeat for several); without it the token sees every tenant",
            HelpName = "TENANT",
            Arity = ArgumentArity.ZeroOrMore,
        };
        option.Validators.Add(result =>
        {
            foreach (var tenant in result.GetValueOrDefault<string[]>() ?? [])
            {
                if (Names.Check(tenant, "--tenant") is { } error) result.AddError(error);
            }
        });
        return option;
    }

    [GeneratedRegex(@"^(?<n>\d{1,9})(?<unit>[smhdw])\z", RegexOptions.CultureInvariant)]
    private static partial Regex DurationRegex();
}
