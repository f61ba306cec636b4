using System.Globalization;
using System.Text.Json.Nodes;

namespace ControlPlane.Tests.Catalog;

/// <summary>Compares the previous release's type-named JSON with a plain JSON rendering of what was read from it.</summary>
internal static class LegacyJson
{
    /// <summary>Drops $id/$type, unwraps $values/$value and resolves $ref, leaving the plain values.</summary>
    public static JsonNode? Normalise(JsonNode root)
    {
        var ids = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        Collect(root, ids);
        return Plain(root, ids);
    }

    private static void Collect(JsonNode? node, Dictionary<string, JsonObject> ids)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["$id"] is JsonValue id) ids[id.ToString()] = o;
                foreach (var (_, child) in o) Collect(child, ids);
                break;
            case JsonArray a:
                foreach (var child in a) Collect(child, ids);
                break;
        }
    }

    private static JsonNode? Plain(JsonNode? node, Dictionary<string, JsonObject> ids)
    {
        switch (node)
        {
            case JsonObject o when o["$ref"] is JsonValue reference:
                return Plain(ids[reference.ToString()], ids);
            case JsonObject o when o.ContainsKey("$values"):
                return Plain(o["$values"], ids);
            case JsonObject o when o.ContainsKey("$value"):
                return Plain(o["$value"], ids);
            case JsonObject o:
                var plain = new JsonObject();
                foreach (var (key, child) in o)
                {
                    if (key is "$id" or "$type") continue;
                    plain[key] = Plain(child, ids);
                }
                return plain;
            case JsonArray a:
                return new JsonArray([.. a.Select(child => Plain(child, ids))]);
            default:
                return node?.DeepClone();
        }
    }

    /// <summary>Every member present in <paramref name="expected"/> (defaults were not written) equals the one in <paramref name="actual"/>.</summary>
    public static void Contains(JsonNode? expected, JsonNode? actual, string path, List<string> mismatches)
    {
        switch (expected)
        {
            case null:
                if (actual is not null) mismatches.Add($"{path}: expected null, read {actual.ToJsonString()}");
                return;
            case JsonObject e:
                if (actual is not JsonObject a)
                {
                    mismatches.Add($"{path}: expected an object, read {actual?.ToJsonString()}");
                    return;
                }
                foreach (var (key, child) in e)
                {
                    if (!a.ContainsKey(key)) mismatches.Add($"{path}.{key}: missing after reading");
                    else Contains(child, a[key], $"{path}.{key}", mismatches);
                }
                return;
            case JsonArray e:
                if (actual is not JsonArray list || list.Count != e.Count)
                {
                    mismatches.Add($"{path}: expected {e.Count} elements, read {actual?.ToJsonString()}");
                    return;
                }
                for (var i = 0; i < e.Count; i++) Contains(e[i], list[i], $"{path}[{i}]", mismatches);
                return;
            default:
                if (!SameValue(expected.AsValue(), actual)) mismatches.Add($"{path}: expected {expected.ToJsonString()}, read {actual?.ToJsonString()}");
                return;
        }
    }

    private static bool SameValue(JsonValue expected, JsonNode? actual)
    {
        if (actual is not JsonValue a) return false;
        if (expected.TryGetValue<decimal>(out var en) && a.TryGetValue<decimal>(out var an)) return en == an;
        var es = expected.ToString();
        var @as = a.ToString();
        if (es == @as) return true;
        return DateTimeOffset.TryParse(es, CultureInfo.InvariantCulture, DateTimeStyles.None, out var ed)
            && DateTimeOffset.TryParse(@as, CultureInfo.InvariantCulture, DateTimeStyles.None, out var ad)
            && ed == ad && ed.Offset == ad.Offset;
    }
}
