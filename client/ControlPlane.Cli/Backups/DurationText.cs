using System.Globalization;

namespace ControlPlane.Cli.Backups;

/// <summary>
/// Durations as SREs type them: a whole number and one unit (500ms, 30s, 5m, 2h, 7d), or a bare 0. One unit only,
/// so "1h30m" is refused rather than guessed at; 90m says the same.
/// </summary>
internal static class DurationText
{
    public const string Expected = "expected a whole number and a unit ms, s, m, h or d, like 500ms, 30s, 5m, 2h or 7d (or 0)";

    // Longest suffix first, so "ms" is not read as "m" followed by garbage.
    private static readonly (string Suffix, long TicksPerUnit)[] Units =
    [
        ("ms", TimeSpan.TicksPerMillisecond),
        ("s", TimeSpan.TicksPerSecond),
        ("m", TimeSpan.TicksPerMinute),
        ("h", TimeSpan.TicksPerHour),
        ("d", TimeSpan.TicksPerDay),
    ];

    /// <summary>Null when <paramref name="text"/> is a duration (in <paramref name="value"/>), else an error naming <paramref name="option"/>.</summary>
    public static string? TryParse(string? text, string option, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (text == "0") return null;
        foreach (var (suffix, ticks) in Units)
        {
            if (text is null || !text.EndsWith(suffix, StringComparison.Ordinal)) continue;
            var number = text[..^suffix.Length];
            if (number.Length is 0 or > 9 || !number.All(char.IsAsciiDigit)) break;
            value = TimeSpan.FromTicks(long.Parse(number, CultureInfo.InvariantCulture) * ticks);
            return null;
        }
        return $"{option} '{text}' is not a duration; {Expected}";
    }

    /// <summary>The shortest exact spelling in the same units: 7d, 36h, 90m, 1500ms, 0.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero) return "0";
        for (var i = Units.Length - 1; i >= 0; i--)
        {
            var (suffix, ticks) = Units[i];
            if (value.Ticks % ticks == 0) return string.Create(CultureInfo.InvariantCulture, $"{value.Ticks / ticks}{suffix}");
        }
        return value.ToString("c", CultureInfo.InvariantCulture);
    }
}
