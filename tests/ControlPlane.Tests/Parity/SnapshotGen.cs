using ControlPlane.Migrations.Parity;
using CsCheck;

namespace ControlPlane.Tests.Parity;

/// <summary>Random catalog objects of every kind in one schema, as a catalog read might return them.</summary>
internal static class SnapshotGen
{
    private static Gen<string> Pick(params string[] choices) => Gen.Int[0, choices.Length - 1].Select(i => choices[i]);

    private static readonly Gen<string> Name = Pick("a", "b", "c", "orders", "region", "Mixed Case", "order");
    private static readonly Gen<string> Text = Pick("", "x", "it's", "now()", "(a > 0)");

    private static Gen<ISchemaObject> Object(string schema) => Gen.OneOf<ISchemaObject>(
        Name.Select(n => (ISchemaObject)new ExtensionObject(schema, n, "1.0")),
        Gen.Select(Name, Gen.Long[1, 100], Gen.Bool, (n, start, cycle) =>
            (ISchemaObject)new SequenceObject(schema, n + "_seq", "bigint", start, 1, 1, long.MaxValue, 1, cycle, "")),
        Gen.Select(Name, Text, Gen.Bool, (n, body, strict) => (ISchemaObject)new FunctionObject(schema, n, "", "", false, "integer",
            "sql", "immutable", strict, false, false, body, body.GetHashCode(StringComparison.Ordinal).ToString(System.Globalization.CultureInfo.InvariantCulture))),
        Gen.Select(Name, Gen.Bool, Gen.Bool, (n, rls, force) => (ISchemaObject)new TableObject(schema, n, rls, force)),
        Gen.Select(Name, Name, Pick("text", "bigint", "integer"), Gen.Bool, Text, (t, c, type, notNull, d) =>
            (ISchemaObject)new ColumnObject(schema, t, c, type, notNull, d, "", "")),
        Gen.Select(Name, Name, Pick("c", "u"), Gen.Bool, (t, n, type, valid) =>
            (ISchemaObject)new ConstraintObject(schema, t, n + "_k", type, type == "c" ? "CHECK ((a > 0))" : "UNIQUE (a)", valid)),
        Gen.Select(Name, Name, Gen.Bool, (t, n, valid) => (ISchemaObject)new IndexObject(schema, t, n + "_idx", $"CREATE INDEX {n}_idx ON {t} USING btree (a)", valid)),
        Gen.Select(Name, Gen.Bool, Name, (n, mat, dep) => (ISchemaObject)new ViewObject(schema, n + "_v", mat, $"SELECT a FROM {dep}", $"{schema}.{dep}")),
        Gen.Select(Name, Name, Pick("O", "D"), (t, n, on) =>
            (ISchemaObject)new TriggerObject(schema, t, n + "_trg", $"CREATE TRIGGER {n}_trg BEFORE INSERT ON {t} FOR EACH ROW EXECUTE FUNCTION f()", $"{schema}.f()", on)),
        Gen.Select(Name, Name, Gen.Bool, (t, n, permissive) => (ISchemaObject)new PolicyObject(schema, t, n + "_p", "ALL", permissive, "PUBLIC", "(a > 0)", "")),
        Gen.Select(Name, Pick("SELECT", "INSERT"), Gen.Bool, (n, privilege, option) =>
            (ISchemaObject)new GrantObject(schema, "table", n, "reader", privilege, option)),
        Gen.Select(Name, Text, (n, text) => (ISchemaObject)new CommentObject(schema, "table", "", n, text.Length == 0 ? "note" : text)));

    /// <summary>Objects with distinct keys (a catalog never lists one object twice).</summary>
    public static Gen<ISchemaObject[]> Objects(string schema = "app") =>
        Object(schema).Array[0, 40].Select(all => all.GroupBy(o => (o.Kind, o.Key)).Select(g => g.First()).Prepend(new SchemaObject(schema)).ToArray());

    public static Gen<SchemaSnapshot> Snapshot(string schema = "app") => Objects(schema).Select(o => SchemaSnapshot.Create(schema, o));
}
