namespace ControlPlane.Migrations.Parity;

/// <summary>
/// The DDL that turns schema A into schema B (pure): drops first, dependents before what they depend on (triggers,
/// policies, views, constraints, indexes, columns, tables, functions, sequences, extensions, schemas), then creates in
/// the reverse order, then grants and comments. Each statement is annotated by the migrations impact analysis.
/// </summary>
public static class ReconcilePlanner
{
    public static SchemaReconciliation Plan(SchemaSnapshot a, SchemaSnapshot b)
    {
        var differences = SchemaDiff.Compare(a, b);
        if (differences.Count == 0) return new SchemaReconciliation(differences, [], [], []);
        var builder = new ReconcileBuilder(a, SchemaDiff.Align(a, b));
        var drafts = builder.Build();
        return new SchemaReconciliation(differences, Preamble(a), ReconcileHazards.Annotate(drafts), builder.Notes);
    }

    /// <summary>
    /// The session the statements assume: a schema snapshot's definitions name their own schema's objects unqualified,
    /// a database snapshot's qualify everything; function bodies are not checked against objects created later.
    /// </summary>
    public static IReadOnlyList<string> Preamble(SchemaSnapshot a)
    {
        ArgumentNullException.ThrowIfNull(a);
        return
        [
            a.IsSchemaScope ? $"SET search_path = {ParityNames.Quote(a.Scope)}" : "SET search_path = ''",
            "SET check_function_bodies = off",
        ];
    }
}

/// <summary>One kind's objects in A and B by key: what only A has, what only B has, and what both have but differently.</summary>
internal sealed class KindDiff<T>
    where T : ISchemaObject
{
    public KindDiff(IEnumerable<T> a, IEnumerable<T> b)
    {
        A = a.ToDictionary(o => o.Key);
        B = b.ToDictionary(o => o.Key);
    }

    public Dictionary<string, T> A { get; }

    public Dictionary<string, T> B { get; }

    public IEnumerable<T> Removed => A.Values.Where(o => !B.ContainsKey(o.Key));

    public IEnumerable<T> Added => B.Values.Where(o => !A.ContainsKey(o.Key));

    public IEnumerable<(T A, T B)> Changed =>
        A.Values.Where(o => B.TryGetValue(o.Key, out var other) && !o.Equals(other)).Select(o => (o, B[o.Key]));

    public IEnumerable<(T A, T B)> Both => A.Values.Where(o => B.ContainsKey(o.Key)).Select(o => (o, B[o.Key]));
}
