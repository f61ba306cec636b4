using System.CommandLine;
using System.Text.RegularExpressions;
using ControlPlane.Cli.Common;

namespace ControlPlane.Cli.Backups;

/// <summary>
/// Arguments and options of the backup commands. Everything cheap to check (id shapes, durations, LSNs, times with an
/// offset) is checked at parse time, so a typo exits 2 naming the argument and nothing is sent.
/// </summary>
internal static partial class BackupArguments
{
    public static Argument<string> BackupId(string description = "Backup id as 'cpctl backup list' shows it, e.g. 20261127T030000Z-12")
    {
        var argument = new Argument<string>("BACKUP_ID") { Description = description };
        argument.Validators.Add(r => { if (CheckBackupId(r.GetValueOrDefault<string>(), "BACKUP_ID") is { } e) r.AddError(e); });
        return argument;
    }

    public static Option<string?> BackupOption(string description)
    {
        var option = new Option<string?>("--backup") { Description = description, HelpName = "BACKUP_ID" };
        option.Validators.Add(r => { if (r.GetValueOrDefault<string?>() is { } v && CheckBackupId(v, "--backup") is { } e) r.AddError(e); });
        return option;
    }

    /// <summary>A restore (r3) or export (e7) id: its letter, then a number.</summary>
    public static Argument<string> ShortId(string name, char prefix, string shownBy)
    {
        var argument = new Argument<string>(name) { Description = $"As '{shownBy}' shows it, e.g. {prefix}3" };
        argument.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<string>();
            if (value is null || value.Length is < 2 or > 20 || value[0] != prefix || !value[1..].All(char.IsAsciiDigit))
                r.AddError($"{name}: '{value}' is invalid; expected '{prefix}' and a number as '{shownBy}' shows it, e.g. {prefix}3");
        });
        return argument;
    }

    public static Argument<string> OperationId()
    {
        var argument = new Argument<string>("ID") { Description = "Backup operation id as a command printed it, e.g. oltp.b3" };
        argument.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<string>() ?? "";
            var dot = value.LastIndexOf(".b", StringComparison.Ordinal);
            if (dot < 1 || !Names.IsValid(value[..dot]) || value.Length == dot + 2 || !value[(dot + 2)..].All(char.IsAsciiDigit))
                r.AddError($"ID: '{value}' is not a backup operation id; expected TIER.bN as a backup command printed it, e.g. oltp.b3");
        });
        return argument;
    }

    public static Argument<string> RestorePointName()
    {
        var argument = new Argument<string>("NAME") { Description = "1 to 63 characters of letters, digits, '_', '.', ':' or '-'" };
        argument.Validators.Add(r => { if (CheckRestorePoint(r.GetValueOrDefault<string>(), "NAME") is { } e) r.AddError(e); });
        return argument;
    }

    public static Option<bool> NoWait() => new("--no-wait") { Description = "Print the operation and return without following it" };

    public static Option<int?> Limit(string what) =>
        Whole("--limit", $"How many of the newest {what} (1 to 500; default 20)", min: 1, max: 500);

    /// <summary>
    /// A whole-number option checked by its own parser: a validator reading the value of "--limit x" would throw
    /// instead of reporting, so the conversion and the range are one step that names the option and the value.
    /// </summary>
    public static Option<int?> Whole(string name, string description, int min, int max = int.MaxValue) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
            if (int.TryParse(text, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= min && n <= max)
                return n;
            var range = max == int.MaxValue ? $"{min} or more" : $"{min} to {max}";
            r.AddError($"{name} '{text}' is invalid; expected a whole number, {range}.");
            return null;
        },
    };

    /// <summary>A duration option (500ms, 30s, 5m, 2h, 7d); unset is null.</summary>
    public static Option<TimeSpan?> Duration(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "DURATION",
        CustomParser = r =>
        {
            var text = r.Tokens.Count == 1 ? r.Tokens[0].Value : null;
            if (DurationText.TryParse(text, name, out var value) is not { } error) return value;
            r.AddError(error);
            return null;
        },
    };

    /// <summary>
    /// A true|false option. A string, not a bool: System.CommandLine lets a bool option skip a word it cannot parse,
    /// so "--verify yes" would be read as "--verify" plus a stray "yes"; here it is refused naming the option.
    /// </summary>
    public static Option<string?> Switch(string name, string description)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = "true|false" };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } v && v is not ("true" or "false")) r.AddError($"{name} '{v}' is invalid; expected true or false.");
        });
        return option;
    }

    /// <summary>The value of a <see cref="Switch"/>, null when not given.</summary>
    public static bool? SwitchValue(string? value) => value is null ? null : value == "true";

    public static string? CheckBackupId(string? value, string argument) =>
        value is { Length: > 0 and <= 40 } && value.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')
            ? null
            : $"{argument}: '{value}' is not a backup id; expected one as 'cpctl backup list' shows it, e.g. 20261127T030000Z-12";

    public static string? CheckRestorePoint(string? value, string argument) =>
        value is { Length: > 0 and <= 63 } && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or ':' or '-')
            ? null
            : $"{argument}: '{value}' is not a restore point name; expected 1 to 63 characters of letters, digits, '_', '.', ':' or '-'";

    public static string? CheckLsn(string? value, string argument) =>
        value is not null && LsnRegex().IsMatch(value) && value != "0/0"
            ? null
            : $"{argument}: '{value}' is not a WAL location; expected two hexadecimal numbers separated by '/', like 0/3000060";

    /// <summary>Null when <paramref name="value"/> is ISO 8601 with a UTC offset (in <paramref name="time"/>).</summary>
    public static string? CheckTime(string? value, string argument, out DateTimeOffset time)
    {
        time = default;
        if (value is not null && OffsetRegex().IsMatch(value)
            && DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out time))
            return null;
        return $"{argument}: '{value}' is not a time with a UTC offset; expected ISO 8601 like 2026-11-27T03:15:00Z or 2026-11-27T04:15:00+01:00";
    }

    [GeneratedRegex(@"^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}\z", RegexOptions.CultureInvariant)]
    private static partial Regex LsnRegex();

    // A date, 'T', a time, optional fraction, then Z or +hh:mm / -hh:mm: a time without an offset means a different
    // moment in every SRE's zone, so it is refused rather than guessed.
    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,7})?)?(Z|[+-]\d\d:\d\d)\z", RegexOptions.CultureInvariant)]
    private static partial Regex OffsetRegex();
}
