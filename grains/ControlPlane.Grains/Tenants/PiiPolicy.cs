using System.Text.RegularExpressions;
using ControlPlane.Postgres.Tenants;

namespace ControlPlane.Grains.Tenants;

/// <summary>
/// Pure rules of the personal-data catalog: which column types can hold a kind's pseudonyms, and which columns look
/// personal from their name and type. Suggestions are only that: a reviewer declares what is really personal.
/// </summary>
public static partial class PiiPolicy
{
    /// <summary>Null when a column of <paramref name="dataType"/> (<c>format_type</c>) can hold every pseudonym of the kind; else why not.</summary>
    public static string? Incompatible(string kind, string dataType)
    {
        ArgumentNullException.ThrowIfNull(dataType);
        if (dataType is "text" or "character varying" or "citext" or "name") return null;
        if (Bounded().Match(dataType) is { Success: true } bounded)
        {
            var length = int.Parse(bounded.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            return length >= PiiKinds.MaxLength(kind)
                ? null
                : $"type {dataType} holds {length} characters; pseudonyms of kind {kind} need up to {PiiKinds.MaxLength(kind)}";
        }
        if (dataType is "inet" && kind == PiiKinds.Ip) return null;
        if (dataType is "date" && kind == PiiKinds.BirthDate) return null;
        return $"type {dataType} cannot hold pseudonyms of kind {kind}; expected a text type{(kind == PiiKinds.Ip ? " or inet" : kind == PiiKinds.BirthDate ? " or date" : "")}";
    }

    /// <summary>
    /// Columns of the tenants' tables that look personal, grouped by table and column over every tenant schema, without
    /// the ones already declared. <paramref name="columns"/>: (schema, table, column, type) as read from the catalog.
    /// </summary>
    public static IReadOnlyList<PiiSuggestionView> Suggest(string tier, IEnumerable<TenantColumn> columns, IReadOnlyCollection<PiiColumn> declared)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(declared);
        var suggestions = new List<PiiSuggestionView>();
        foreach (var group in columns.GroupBy(c => (c.Table, c.Column)).OrderBy(g => g.Key.Table, StringComparer.Ordinal).ThenBy(g => g.Key.Column, StringComparer.Ordinal))
        {
            if (declared.Any(d => d.Tier == tier && d.Table == group.Key.Table && d.Column == group.Key.Column)) continue;
            var type = group.First().DataType;
            if (Guess(group.Key.Column, type) is not { } guess) continue;
            suggestions.Add(new PiiSuggestionView(tier, group.Key.Table, group.Key.Column, guess.Kind, type, guess.Reason,
                [.. group.Select(c => c.Schema).Distinct().Order(StringComparer.Ordinal)]));
        }
        return suggestions;
    }

    /// <summary>The kind a column's name (and type) suggests, or null. Names are split on '_' so "email_verified" is not an email.</summary>
    public static (string Kind, string Reason)? Guess(string column, string dataType)
    {
        ArgumentNullException.ThrowIfNull(column);
        if (dataType is "boolean" or "integer" or "bigint" or "smallint" or "numeric" or "uuid" or "jsonb" or "json" or "bytea") return null;
        var words = column.ToLowerInvariant().Split('_', StringSplitOptions.RemoveEmptyEntries);
        if (dataType == "inet") return (PiiKinds.Ip, "type inet");
        (string Kind, string Reason)? hit = null;
        foreach (var (kind, names) in Rules)
        {
            var word = words.LastOrDefault(w => names.Contains(w));
            if (word is not null && words[^1] is not ("verified" or "count" or "hash" or "at" or "id" or "type" or "status" or "flag"))
            {
                hit = (kind, $"name has '{word}'");
                break;
            }
        }
        if (hit is null) return null;
        if (hit.Value.Kind == PiiKinds.BirthDate && dataType is not ("date" or "text" or "character varying")) return null;
        return Incompatible(hit.Value.Kind, dataType) is null ? hit : null;
    }

    private static readonly (string Kind, string[] Names)[] Rules =
    [
        (PiiKinds.Email, ["email", "mail", "e-mail"]),
        (PiiKinds.Phone, ["phone", "mobile", "tel", "telephone", "fax", "msisdn"]),
        (PiiKinds.Ip, ["ip", "ipaddr", "ipv4", "ipv6"]),
        (PiiKinds.BirthDate, ["birth", "birthday", "birthdate", "dob"]),
        (PiiKinds.Address, ["address", "street", "addr", "postcode", "zip", "city"]),
        (PiiKinds.Name, ["name", "firstname", "lastname", "surname", "fullname", "forename"]),
        (PiiKinds.Text, ["ssn", "passport", "iban", "nin", "tax"]),
    ];

    [GeneratedRegex("^(character varying|character)\\((\\d+)\\)$", RegexOptions.CultureInvariant)]
    private static partial Regex Bounded();
}
