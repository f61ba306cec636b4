using System.CommandLine;
using System.Globalization;

namespace ControlPlane.Bench.Common;

/// <summary>
/// Range checks of integer options. A validator must not read a value that failed to convert (System.CommandLine
/// throws), so it reads the token itself; a token that is not a number is the parser's own error.
/// </summary>
public static class IntOption
{
    public static void Range(Option<int> option, int min, int max)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count == 1 && int.TryParse(r.Tokens[0].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && (value < min || value > max))
                r.AddError($"{option.Name}: expected {min} to {max}, got {value}.");
        });
    }
}
