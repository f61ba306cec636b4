using System.Text.Json;
using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Impact;

/// <summary>Facts about a column definition (a ColumnDef body) that decide whether adding it rewrites the table.</summary>
public static class ColumnFacts
{
    // Built-in functions PostgreSQL marks volatile that appear in defaults. A default calling one is evaluated per
    // row when the column is added, so ADD COLUMN rewrites the table (a stable default such as now() does not).
    private static readonly HashSet<string> VolatileFunctions = new(StringComparer.Ordinal)
    {
        "random", "random_normal", "gen_random_uuid", "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4",
        "clock_timestamp", "timeofday", "nextval", "txid_current", "pg_current_xact_id", "setseed", "gen_random_bytes",
    };

    private static readonly HashSet<string> SerialTypes = new(StringComparer.Ordinal)
    {
        "serial", "serial4", "bigserial", "serial8", "smallserial", "serial2",
    };

    public static IEnumerable<JsonElement> Constraints(JsonElement column) => column.Nodes("constraints", "Constraint");

    public static JsonElement? Default(JsonElement column) =>
        Constraints(column).Where(c => c.Str("contype") == "CONSTR_DEFAULT").Select(c => (JsonElement?)c.Field("raw_expr")).FirstOrDefault();

    public static bool NotNull(JsonElement column) =>
        column.Bool("is_not_null") || Constraints(column).Any(c => c.Str("contype") is "CONSTR_NOTNULL" or "CONSTR_PRIMARY");

    public static bool IsSerial(JsonElement column) => SerialTypes.Contains(column.Field("typeName").TypeName());

    public static bool IsIdentity(JsonElement column) => Constraints(column).Any(c => c.Str("contype") == "CONSTR_IDENTITY");

    public static bool IsStoredGenerated(JsonElement column) => Constraints(column).Any(c => c.Str("contype") == "CONSTR_GENERATED");

    /// <summary>The first known-volatile function the default calls, or null.</summary>
    public static string? VolatileCall(JsonElement? expression) =>
        expression is { } e ? FunctionCalls(e).FirstOrDefault(VolatileFunctions.Contains) : null;

    /// <summary>Adding this column fills every existing row with a computed value: the table is rewritten.</summary>
    public static bool AddColumnRewrites(JsonElement column) =>
        column.ValueKind == JsonValueKind.Object
        && (VolatileCall(Default(column)) is not null || IsStoredGenerated(column) || IsIdentity(column) || IsSerial(column));

    // Walks an expression (not a statement: an expression holds no function bodies) for FuncCall names.
    private static IEnumerable<string> FunctionCalls(JsonElement expression)
    {
        switch (expression.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in expression.EnumerateObject())
                {
                    if (property.Name == "FuncCall")
                    {
                        var names = property.Value.Names("funcname");
                        if (names.Count > 0)
                        {
                            yield return names[^1];
                        }
                    }
                    foreach (var name in FunctionCalls(property.Value))
                    {
                        yield return name;
                    }
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in expression.EnumerateArray())
                {
                    foreach (var name in FunctionCalls(item))
                    {
                        yield return name;
                    }
                }
                break;
        }
    }
}
