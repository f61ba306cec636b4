using System.Text.Json;

namespace ControlPlane.Migrations.Parsing;

/// <summary>
/// Reading libpg_query's protobuf-JSON: a node is an object with one property named after its type
/// (<c>{"RangeVar": {…}}</c>); a field holding a scalar is omitted when it has its default.
/// </summary>
public static class PgTree
{
    public static string Str(this JsonElement node, string field) =>
        node.ValueKind == JsonValueKind.Object && node.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString() ?? ""
            : "";

    public static bool Bool(this JsonElement node, string field) =>
        node.ValueKind == JsonValueKind.Object && node.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.True;

    public static int Int(this JsonElement node, string field) =>
        node.ValueKind == JsonValueKind.Object && node.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number
            ? v.GetInt32()
            : 0;

    /// <summary>The elements of an array field, none when it is absent.</summary>
    public static IEnumerable<JsonElement> Items(this JsonElement node, string field) =>
        node.ValueKind == JsonValueKind.Object && node.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray()
            : [];

    /// <summary>The field's value, or an undefined element.</summary>
    public static JsonElement Field(this JsonElement node, string field) =>
        node.ValueKind == JsonValueKind.Object && node.TryGetProperty(field, out var v) ? v : default;

    /// <summary>When <paramref name="wrapper"/> is a node of type <paramref name="type"/>, its body.</summary>
    public static bool Is(this JsonElement wrapper, string type, out JsonElement body)
    {
        if (wrapper.ValueKind == JsonValueKind.Object && wrapper.TryGetProperty(type, out body))
        {
            return true;
        }
        body = default;
        return false;
    }

    /// <summary>The bodies of the nodes of type <paramref name="type"/> in an array field.</summary>
    public static IEnumerable<JsonElement> Nodes(this JsonElement node, string field, string type)
    {
        foreach (var item in node.Items(field))
        {
            if (item.Is(type, out var body))
            {
                yield return body;
            }
        }
    }

    /// <summary>A list of String nodes (a qualified name) as its parts.</summary>
    public static IReadOnlyList<string> Names(this JsonElement node, string field) =>
        node.Items(field).Select(n => n.Is("String", out var s) ? s.Str("sval") : "").ToArray();

    /// <summary>A RangeVar body as a table name.</summary>
    public static TableName Table(this JsonElement rangeVar) => new(rangeVar.Str("schemaname"), rangeVar.Str("relname"));

    /// <summary>The type's own name without pg_catalog (int4, varchar, timestamptz, serial, …).</summary>
    public static string TypeName(this JsonElement typeName)
    {
        var names = typeName.Names("names");
        return names.Count == 0 ? "" : names[^1];
    }
}

/// <summary>A table (or index, or other relation) as a statement names it; the schema is empty when unqualified.</summary>
public sealed record TableName(string Schema, string Name)
{
    public override string ToString() => Schema.Length == 0 ? Name : $"{Schema}.{Name}";

    /// <summary>Same relation, treating an unqualified name as matching any schema.</summary>
    public bool Matches(TableName other) =>
        Name == other.Name && (Schema.Length == 0 || other.Schema.Length == 0 || Schema == other.Schema);
}
