using System.CommandLine;
using ControlPlane.Cli.Backups;

namespace ControlPlane.Cli.Monitoring;

/// <summary>Durations and name=value pairs of the alert commands, checked at parse time (bad input exits 2).</summary>
internal static class DurationArgument
{
    public static void Validate(Option<string> option)
    {
        option.Validators.Add(r =>
        {
            if (DurationText.TryParse(r.GetValueOrDefault<string>(), option.Name, out _) is { } error) r.AddError(error);
        });
    }

    public static void ValidatePairs(Argument<string[]> argument) =>
        argument.Validators.Add(r =>
        {
            foreach (var value in r.GetValueOrDefault<string[]>() ?? [])
                if (PairProblem(argument.Name, value) is { } error) r.AddError(error);
        });

    public static void ValidatePairs(Option<string[]> option) =>
        option.Validators.Add(r =>
        {
            foreach (var value in r.GetValueOrDefault<string[]>() ?? [])
                if (PairProblem(option.Name, value) is { } error) r.AddError(error);
        });

    /// <summary>The duration (validated at parse time).</summary>
    public static TimeSpan Parse(string option, string text) =>
        DurationText.TryParse(text, option, out var value) is { } error ? throw new ArgumentException(error) : value;

    public static (string Key, string Value) Pair(string option, string text) =>
        PairProblem(option, text) is { } error ? throw new ArgumentException(error) : (text[..text.IndexOf('=', StringComparison.Ordinal)], text[(text.IndexOf('=', StringComparison.Ordinal) + 1)..]);

    private static string? PairProblem(string option, string text)
    {
        var at = text.IndexOf('=', StringComparison.Ordinal);
        return at <= 0 || at == text.Length - 1 ? $"{option} '{text}' is not name=value; expected e.g. alertname=BlockedSessions or tier=oltp." : null;
    }
}
