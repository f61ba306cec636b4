using System.Globalization;
using System.Text.RegularExpressions;

namespace ControlPlane.Postgres.Failover;

/// <summary>
/// Builds <c>synchronous_standby_names</c> values from validated replica names, double-quoted (replica names
/// like <c>oltp-2</c> are not plain identifiers in that setting's syntax). The value is still passed to the
/// server as a quoted literal (<c>format('%L')</c>), never spliced into SQL.
/// </summary>
public static partial class SynchronousStandbyNames
{
    /// <summary>No synchronous standby: commits wait for the local flush only.</summary>
    public const string None = "";

    /// <summary><c>FIRST n (a, b)</c>: priority-based; the first <paramref name="count"/> connected names listed are synchronous.</summary>
    public static string First(int count, IEnumerable<string> names) => Build("FIRST", count, names);

    /// <summary><c>ANY n (a, b)</c>: quorum; a commit waits for any <paramref name="count"/> of them.</summary>
    public static string Any(int count, IEnumerable<string> names) => Build("ANY", count, names);

    /// <summary>True for names the control plane gives replicas: lower-case letter, then lower-case letters, digits, '_' or '-'.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    private static string Build(string method, int count, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var list = names.ToList();
        if (list.Count == 0) throw new ArgumentException("At least one standby name is required; use SynchronousStandbyNames.None for none.", nameof(names));
        foreach (var name in list)
        {
            if (!IsValidName(name)) throw new ArgumentException($"Standby name '{name}' is not valid; expected ^[a-z][a-z0-9_-]*$.", nameof(names));
        }
        if (list.Distinct(StringComparer.Ordinal).Count() != list.Count) throw new ArgumentException($"Standby names repeat: {string.Join(", ", list)}.", nameof(names));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, list.Count);
        return string.Create(CultureInfo.InvariantCulture, $"{method} {count} ({string.Join(", ", list.Select(n => $"\"{n}\""))})");
    }

    [GeneratedRegex("^[a-z][a-z0-9_-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
