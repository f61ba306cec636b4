using System.Text.Json;

namespace ControlPlane.Migrations.Parity;

/// <summary>How an object differs: only in B (Added), only in A (Removed), or in both with a field changed.</summary>
public enum DifferenceType
{
    Added,
    Removed,
    Changed,
}

/// <summary>
/// One difference between snapshots A and B. For Changed, <see cref="Field"/> names the field and A/B hold its two
/// values; for Added and Removed, Field is empty and the present side holds the object's canonical JSON.
/// </summary>
public sealed record SchemaDifference(ObjectKind Kind, string Object, DifferenceType Type, string Field, string? A, string? B)
{
    public override string ToString() => Type switch
    {
        DifferenceType.Added => $"+ {Kind.ToString().ToLowerInvariant()} {Object}",
        DifferenceType.Removed => $"- {Kind.ToString().ToLowerInvariant()} {Object}",
        _ => $"~ {Kind.ToString().ToLowerInvariant()} {Object}: {Field} {Show(A)} -> {Show(B)}",
    };

    private static string Show(string? value) => value is null or "" ? "(none)" : value.Length > 80 ? value[..77] + "..." : value;
}

/// <summary>
/// The structured difference between two snapshots (pure). Two single-schema snapshots of differently named schemas
/// (a tenant and its template) are compared shape against shape: B is moved into A's schema first. A schema snapshot
/// and a database snapshot cover different things and are refused.
/// </summary>
public static class SchemaDiff
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static IReadOnlyList<SchemaDifference> Compare(SchemaSnapshot a, SchemaSnapshot b)
    {
        var aligned = Align(a, b);
        var before = a.Objects.ToDictionary(o => (o.Kind, o.Key));
        var after = aligned.Objects.ToDictionary(o => (o.Kind, o.Key));
        var differences = new List<SchemaDifference>();
        foreach (var (id, old) in before)
        {
            if (!after.TryGetValue(id, out var @new))
            {
                differences.Add(new(id.Kind, id.Key, DifferenceType.Removed, "", ToJson(old), null));
            }
            else if (!old.Equals(@new))
            {
                differences.AddRange(FieldChanges(old, @new));
            }
        }
        differences.AddRange(after.Where(p => !before.ContainsKey(p.Key))
            .Select(p => new SchemaDifference(p.Key.Kind, p.Key.Key, DifferenceType.Added, "", null, ToJson(p.Value))));
        return [.. differences.OrderBy(d => d.Kind).ThenBy(d => d.Object, StringComparer.Ordinal).ThenBy(d => d.Field, StringComparer.Ordinal)];
    }

    /// <summary>B as compared with A: moved into A's schema when both cover one schema.</summary>
    public static SchemaSnapshot Align(SchemaSnapshot a, SchemaSnapshot b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.IsSchemaScope != b.IsSchemaScope)
        {
            throw new IncompatibleSnapshotsException(
                $"cannot compare a {Describe(a)} with a {Describe(b)}: both must cover one schema, or both a whole database");
        }
        return a.IsSchemaScope ? b.InSchema(a.Scope) : b;
    }

    private static string Describe(SchemaSnapshot s) => s.IsSchemaScope ? $"snapshot of schema {s.Scope}" : "snapshot of a whole database";

    internal static string ToJson(ISchemaObject o) => JsonSerializer.Serialize(o, o.GetType(), Json);

    private static IEnumerable<SchemaDifference> FieldChanges(ISchemaObject a, ISchemaObject b)
    {
        using var left = JsonDocument.Parse(ToJson(a));
        using var right = JsonDocument.Parse(ToJson(b));
        var changes = new List<SchemaDifference>();
        foreach (var field in left.RootElement.EnumerateObject())
        {
            var other = right.RootElement.GetProperty(field.Name);
            if (field.Value.GetRawText() != other.GetRawText())
            {
                changes.Add(new(a.Kind, a.Key, DifferenceType.Changed, field.Name, Text(field.Value), Text(other)));
            }
        }
        return changes;
    }

    private static string Text(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString() ?? "" : e.GetRawText();
}

/// <summary>Two snapshots that cover different things (a schema and a whole database).</summary>
public sealed class IncompatibleSnapshotsException(string message) : Exception(message);
