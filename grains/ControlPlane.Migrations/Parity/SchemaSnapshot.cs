using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ControlPlane.Migrations.Parity;

/// <summary>
/// The canonical model of a schema (or of every non-system schema of a database, when <see cref="Scope"/> is empty):
/// every object by kind, each list ordered by key, so two reads of the same catalog give the same JSON and the same
/// <see cref="Hash"/> whatever order the catalog returned its rows in. Built only through <see cref="Create"/>.
/// </summary>
public sealed record SchemaSnapshot(
    string Scope,
    IReadOnlyList<SchemaObject> Schemas,
    IReadOnlyList<ExtensionObject> Extensions,
    IReadOnlyList<SequenceObject> Sequences,
    IReadOnlyList<FunctionObject> Functions,
    IReadOnlyList<TableObject> Tables,
    IReadOnlyList<ColumnObject> Columns,
    IReadOnlyList<ConstraintObject> Constraints,
    IReadOnlyList<IndexObject> Indexes,
    IReadOnlyList<ViewObject> Views,
    IReadOnlyList<TriggerObject> Triggers,
    IReadOnlyList<PolicyObject> Policies,
    IReadOnlyList<GrantObject> Grants,
    IReadOnlyList<CommentObject> Comments)
{
    private static readonly JsonSerializerOptions Canonical = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = false,
    };

    /// <summary>True when the snapshot covers one schema rather than a whole database.</summary>
    [JsonIgnore] public bool IsSchemaScope => Scope.Length > 0;

    /// <summary>Every object, by kind in creation order, then by key.</summary>
    [JsonIgnore]
    public IEnumerable<ISchemaObject> Objects =>
        Schemas.Cast<ISchemaObject>().Concat(Extensions).Concat(Sequences).Concat(Functions).Concat(Tables).Concat(Columns)
            .Concat(Constraints).Concat(Indexes).Concat(Views).Concat(Triggers).Concat(Policies).Concat(Grants).Concat(Comments);

    /// <summary>The canonical model of <paramref name="objects"/> in any order; a key seen twice is an error.</summary>
    public static SchemaSnapshot Create(string scope, IEnumerable<ISchemaObject> objects)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var all = objects.ToArray();
        var duplicate = all.GroupBy(o => (o.Kind, o.Key)).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"the catalog lists {duplicate.Key.Kind} {duplicate.Key.Key} twice", nameof(objects));
        }
        return new SchemaSnapshot(scope, Sorted<SchemaObject>(all), Sorted<ExtensionObject>(all), Sorted<SequenceObject>(all),
            Sorted<FunctionObject>(all), Sorted<TableObject>(all), Sorted<ColumnObject>(all), Sorted<ConstraintObject>(all),
            Sorted<IndexObject>(all), Sorted<ViewObject>(all), Sorted<TriggerObject>(all), Sorted<PolicyObject>(all),
            Sorted<GrantObject>(all), Sorted<CommentObject>(all));
    }

    /// <summary>The compact canonical JSON: what is hashed and what the catalog stores.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Canonical);

    public static SchemaSnapshot FromJson(string json)
    {
        var read = JsonSerializer.Deserialize<SchemaSnapshot>(json, Canonical)
            ?? throw new ArgumentException("the snapshot JSON is null", nameof(json));
        // Re-canonicalised, so a hand-edited or older row still hashes as its content says.
        return Create(read.Scope, read.Objects);
    }

    /// <summary>sha256 of the canonical JSON, lower-case hex.</summary>
    public string Hash() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToJson())));

    /// <summary>
    /// This schema's objects as if they lived in <paramref name="schema"/>: a tenant's schema compared with its
    /// template, or two tenants, differ in name only. Definitions are read relative to the schema, so they move as is.
    /// </summary>
    public SchemaSnapshot InSchema(string schema)
    {
        if (!IsSchemaScope)
        {
            throw new InvalidOperationException("a database snapshot has no single schema to move");
        }
        return schema == Scope ? this : Create(schema, Objects.Select(o => o.InSchema(schema)));
    }

    private static T[] Sorted<T>(IEnumerable<ISchemaObject> all)
        where T : ISchemaObject =>
        [.. all.OfType<T>().OrderBy(o => o.Key, StringComparer.Ordinal)];
}
