using System.Text;

namespace ControlPlane.Migrations.Parity;

/// <summary>Identifier quoting and the schema part of object keys.</summary>
public static class ParityNames
{
    // Words PostgreSQL reserves (or reserves as a column or type name) that a generated name could hit; any name
    // outside lower-case letters, digits and underscores is quoted anyway.
    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "between", "binary",
        "both", "case", "cast", "check", "collate", "collation", "column", "concurrently", "constraint", "create", "cross",
        "current_catalog", "current_date", "current_role", "current_schema", "current_time", "current_timestamp",
        "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "false", "fetch", "for",
        "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike", "in", "initially", "inner", "intersect",
        "into", "is", "isnull", "join", "lateral", "leading", "left", "like", "limit", "localtime", "localtimestamp",
        "natural", "not", "notnull", "null", "offset", "on", "only", "or", "order", "outer", "overlaps", "placing",
        "primary", "references", "returning", "right", "select", "session_user", "similar", "some", "symmetric",
        "system_user", "table", "tablesample", "then", "to", "trailing", "true", "union", "unique", "user", "using",
        "variadic", "verbose", "when", "where", "window", "with",
    };

    /// <summary>The identifier as SQL: bare when PostgreSQL would read it back unchanged, double-quoted otherwise.</summary>
    public static string Quote(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var bare = name.Length > 0 && (char.IsAsciiLetterLower(name[0]) || name[0] == '_')
            && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '$')
            && !Reserved.Contains(name);
        return bare ? name : "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    public static string Qualified(string schema, string name) => $"{Quote(schema)}.{Quote(name)}";

    /// <summary>A string literal (standard_conforming_strings on, as since PostgreSQL 9.1).</summary>
    public static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>A dollar-quoted body whose tag does not occur in it.</summary>
    public static string DollarQuoted(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var tag = "$cp$";
        for (var i = 1; body.Contains(tag, StringComparison.Ordinal); i++) tag = $"$cp{i}$";
        return new StringBuilder(tag).Append(body).Append(tag).ToString();
    }

    /// <summary>The key moved from schema <paramref name="from"/> to <paramref name="to"/> when it is in <paramref name="from"/>.</summary>
    public static string RebaseKey(string key, string from, string to)
    {
        ArgumentNullException.ThrowIfNull(key);
        var prefix = from + ".";
        return from != to && key.StartsWith(prefix, StringComparison.Ordinal) ? to + "." + key[prefix.Length..] : key;
    }

    /// <summary>Each key of a sorted semicolon-separated list moved as by <see cref="RebaseKey"/>, sorted again.</summary>
    public static string RebaseList(string keys, string from, string to)
    {
        ArgumentNullException.ThrowIfNull(keys);
        return keys.Length == 0 || from == to
            ? keys
            : string.Join(';', keys.Split(';').Select(k => RebaseKey(k, from, to)).Order(StringComparer.Ordinal));
    }
}
