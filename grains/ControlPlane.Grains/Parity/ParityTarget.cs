using System.Globalization;
using System.Text.RegularExpressions;
using ControlPlane.Grains.Fleet;

namespace ControlPlane.Grains.Parity;

/// <summary>
/// What a snapshot reads, as the caller wrote it: a tier with an optional database and schema, or a tenant (with the
/// tier it is placed on when it has several), and for a diff side an optional stored snapshot number (<c>@N</c>).
/// An empty <see cref="Database"/> means the tier's own database.
/// </summary>
public sealed record ParityTargetRef(string Tier, string Database, string Schema, string Tenant, long? Sequence)
{
    public bool IsTenant => Tenant.Length > 0;
}

/// <summary>A target resolved against the fleet: the tier, the database and the schema (empty: the whole database).</summary>
public sealed record ParityTarget(string Tier, string Database, string Schema)
{
    /// <summary>The canonical name, the history's key: <c>tier/database/schema</c> or <c>tier/database</c>.</summary>
    public string Key => Schema.Length == 0 ? $"{Tier}/{Database}" : $"{Tier}/{Database}/{Schema}";
}

/// <summary>Parses targets (pure). Every refusal is an ArgumentException whose message names the field, the value and the forms expected.</summary>
public static partial class ParityTargets
{
    public const string TenantPrefix = "tenant:";
    public const string Forms = "TIER, TIER/DATABASE, TIER/DATABASE/SCHEMA or tenant:NAME[@TIER]";

    /// <summary>A database or schema name: an unquoted-style identifier (letters, digits, '_', '$', '-'), at most 63 characters.</summary>
    public const string IdentifierPattern = "^[A-Za-z_][A-Za-z0-9_$-]{0,62}$";

    public static ParityTargetRef Parse(string field, string? text, bool allowSequence)
    {
        if (string.IsNullOrEmpty(text)) throw new ArgumentException($"{field} is required; expected {Forms}{(allowSequence ? ", optionally with @N for stored snapshot N" : "")}.");
        var body = text;
        long? sequence = null;
        var at = text.LastIndexOf('@');
        if (at >= 0 && text[(at + 1)..] is { Length: > 0 } suffix && suffix.All(char.IsAsciiDigit))
        {
            if (!allowSequence) throw Invalid(field, text, $"a stored snapshot (@N) cannot be taken again; expected {Forms}");
            if (!long.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
                throw Invalid(field, text, "the snapshot number after @ must be 1 or more");
            (body, sequence) = (text[..at], n);
        }
        if (body.StartsWith(TenantPrefix, StringComparison.Ordinal))
        {
            var rest = body[TenantPrefix.Length..];
            var parts = rest.Split('@');
            if (parts.Length > 2 || !FleetKeys.IsValidName(parts[0]) || (parts.Length == 2 && !FleetKeys.IsValidName(parts[1])))
                throw Invalid(field, text, $"expected tenant:NAME or tenant:NAME@TIER with names matching {FleetKeys.NamePattern}");
            return new ParityTargetRef(parts.Length == 2 ? parts[1] : "", "", "", parts[0], sequence);
        }
        var segments = body.Split('/');
        if (segments.Length > 3) throw Invalid(field, text, $"expected {Forms}");
        if (!FleetKeys.IsValidName(segments[0])) throw Invalid(field, text, $"the tier must match {FleetKeys.NamePattern}; expected {Forms}");
        foreach (var (segment, what) in segments.Skip(1).Zip(new[] { "database", "schema" }))
        {
            if (!Identifier().IsMatch(segment)) throw Invalid(field, text, $"the {what} '{segment}' must match {IdentifierPattern}");
        }
        return new ParityTargetRef(segments[0], segments.Length > 1 ? segments[1] : "", segments.Length > 2 ? segments[2] : "", "", sequence);
    }

    private static ArgumentException Invalid(string field, string text, string why) => new($"{field} '{Shown(text)}' is invalid: {why}.");

    private static string Shown(string value)
    {
        var cut = value.Length > 80 ? value[..80] + "…" : value;
        return string.Concat(cut.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }

    [GeneratedRegex(IdentifierPattern, RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
