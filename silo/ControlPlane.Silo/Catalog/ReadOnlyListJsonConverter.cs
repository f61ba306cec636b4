using System.Collections;
using Newtonsoft.Json;

namespace ControlPlane.Silo.Catalog;

/// <summary>
/// Only for reading grain state written by the previous release (see <see cref="LegacyGrainStateReader"/>); new
/// state is written in Orleans' encoding. That release stored Newtonsoft JSON with type names. A C# collection expression assigned to an
/// <see cref="IReadOnlyList{T}"/> (<c>[a]</c>, <c>[.. xs, x]</c>) is a compiler-made type (<c>&lt;&gt;z__ReadOnlyArray</c>,
/// <c>&lt;&gt;z__ReadOnlySingleElementList</c>) whose name Newtonsoft writes but cannot always read back, which made a
/// grain unable to activate after a restart. Such lists are written as plain JSON arrays and every
/// <see cref="IReadOnlyList{T}"/> is read into an array, including the <c>{"$type", "$values"}</c> shape older
/// state was written in.
/// </summary>
public sealed class ReadOnlyListJsonConverter : JsonConverter
{
    public override bool CanConvert(Type objectType) =>
        ElementOf(objectType) is not null && (IsReadOnlyListInterface(objectType) || IsCompilerMade(objectType));

    public override void WriteJson(JsonWriter writer, object? value, JsonSerializer serializer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(serializer);
        if (value is null)
        {
            writer.WriteNull();
            return;
        }
        var element = ElementOf(value.GetType())!;
        writer.WriteStartArray();
        foreach (var item in (IEnumerable)value) serializer.Serialize(writer, item, element);
        writer.WriteEndArray();
    }

    public override object? ReadJson(JsonReader reader, Type objectType, object? existingValue, JsonSerializer serializer)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(serializer);
        var element = ElementOf(objectType) ?? throw new JsonSerializationException($"{objectType} is not a read-only list.");
        if (reader.TokenType == JsonToken.Null) return null;
        if (reader.TokenType == JsonToken.StartObject)
        {
            // {"$type": "...", "$values": [...]}: the shape type-named collections were stored in.
            while (reader.Read() && reader.TokenType != JsonToken.EndObject)
            {
                if (reader.TokenType == JsonToken.PropertyName && (string?)reader.Value == "$values")
                {
                    reader.Read();
                    var values = ReadArray(reader, element, serializer);
                    while (reader.Read() && reader.TokenType != JsonToken.EndObject) reader.Skip();
                    return values;
                }
                reader.Skip();
            }
            return Array.CreateInstance(element, 0);
        }
        return ReadArray(reader, element, serializer);
    }

    private static Array ReadArray(JsonReader reader, Type element, JsonSerializer serializer)
    {
        if (reader.TokenType != JsonToken.StartArray)
            throw new JsonSerializationException($"expected an array of {element.Name}, found {reader.TokenType} at {reader.Path}.");
        var items = new List<object?>();
        while (reader.Read() && reader.TokenType != JsonToken.EndArray) items.Add(serializer.Deserialize(reader, element));
        var array = Array.CreateInstance(element, items.Count);
        for (var i = 0; i < items.Count; i++) array.SetValue(items[i], i);
        return array;
    }

    private static bool IsReadOnlyListInterface(Type type) =>
        type.IsInterface && type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>);

    private static bool IsCompilerMade(Type type) => type.Name.StartsWith("<>", StringComparison.Ordinal);

    private static Type? ElementOf(Type type) =>
        IsReadOnlyListInterface(type)
            ? type.GetGenericArguments()[0]
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))?.GetGenericArguments()[0];
}
