using static ControlPlane.Migrations.Parity.ParityDdl;

namespace ControlPlane.Migrations.Parity;

/// <summary>
/// Works out, per kind, what is dropped, created, recreated or altered from A to B, and writes the statements in
/// dependency order (<see cref="ReconcilePlanner"/>). Recreation spreads: a view over a table whose column changes
/// type, a trigger on a function that is recreated, a foreign key onto a key that is recreated.
/// </summary>
internal sealed partial class ReconcileBuilder
{
    private readonly SchemaSnapshot a;
    private readonly SchemaSnapshot b;
    private readonly List<PlannedDdl> drops = [];
    private readonly List<PlannedDdl> creates = [];
    private readonly KindDiff<SchemaObject> schemas;
    private readonly KindDiff<ExtensionObject> extensions;
    private readonly KindDiff<SequenceObject> sequences;
    private readonly KindDiff<FunctionObject> functions;
    private readonly KindDiff<TableObject> tables;
    private readonly KindDiff<ColumnObject> columns;
    private readonly KindDiff<ConstraintObject> constraints;
    private readonly KindDiff<IndexObject> indexes;
    private readonly KindDiff<ViewObject> views;
    private readonly KindDiff<TriggerObject> triggers;
    private readonly KindDiff<PolicyObject> policies;

    // Objects of A that are dropped and created again from B, by kind and key.
    private readonly HashSet<(ObjectKind, string)> recreated = [];

    // Tables whose columns change type or are dropped: what reads those columns must be rebuilt around the change.
    private readonly HashSet<string> reshaped;

    private readonly HashSet<(ObjectKind, string)> inA;
    private readonly HashSet<(ObjectKind, string)> inB;

    public ReconcileBuilder(SchemaSnapshot a, SchemaSnapshot b)
    {
        this.a = a;
        this.b = b;
        schemas = new(a.Schemas, b.Schemas);
        extensions = new(a.Extensions, b.Extensions);
        sequences = new(a.Sequences, b.Sequences);
        functions = new(a.Functions, b.Functions);
        tables = new(a.Tables, b.Tables);
        columns = new(a.Columns, b.Columns);
        constraints = new(a.Constraints, b.Constraints);
        indexes = new(a.Indexes, b.Indexes);
        views = new(a.Views, b.Views);
        triggers = new(a.Triggers, b.Triggers);
        policies = new(a.Policies, b.Policies);
        inA = [.. a.Objects.Select(o => (o.Kind, o.Key))];
        inB = [.. b.Objects.Select(o => (o.Kind, o.Key))];
        reshaped = [.. columns.Removed.Select(TableOf)
            .Concat(columns.Changed.Where(c => c.A.Type != c.B.Type || RecreatesColumn(c.A, c.B)).Select(c => TableOf(c.A)))];
        DecideRecreations();
    }

    public List<string> Notes { get; } = [];

    public IReadOnlyList<PlannedDdl> Build()
    {
        DropPhase();
        CreatePhase();
        return [.. drops, .. creates];
    }

    private static string TableOf(ColumnObject c) => $"{c.Schema}.{c.Table}";

    private bool TableKept(string schema, string table) => tables.B.ContainsKey($"{schema}.{table}") && tables.A.ContainsKey($"{schema}.{table}");

    // PostgreSQL can drop a generated column's expression but not give a column one: that takes a new column.
    private static bool RecreatesColumn(ColumnObject a, ColumnObject b) => b.Generated.Length > 0 && a.Generated != b.Generated;

    private static bool RecreatesFunction(FunctionObject a, FunctionObject b) =>
        a.Result != b.Result || a.Procedure != b.Procedure || a.Arguments != b.Arguments || a.AtomicBody != b.AtomicBody;

    private static bool RecreatesConstraint(ConstraintObject a, ConstraintObject b) =>
        !(a.Type == b.Type && a.Definition == b.Definition && !a.Validated && b.Validated);

    private void DecideRecreations()
    {
        foreach (var (x, _) in columns.Changed.Where(c => RecreatesColumn(c.A, c.B))) recreated.Add((ObjectKind.Column, x.Key));
        foreach (var (x, _) in functions.Changed.Where(c => RecreatesFunction(c.A, c.B))) recreated.Add((ObjectKind.Function, x.Key));
        foreach (var (x, _) in constraints.Changed.Where(c => RecreatesConstraint(c.A, c.B))) recreated.Add((ObjectKind.Constraint, x.Key));
        foreach (var (x, _) in indexes.Changed.Where(c => c.A.Definition != c.B.Definition)) recreated.Add((ObjectKind.Index, x.Key));
        foreach (var (x, _) in policies.Changed) recreated.Add((ObjectKind.Policy, x.Key));

        // Dropping a column takes the indexes and constraints that use it: rebuild those B keeps.
        var droppedColumns = columns.Removed.Concat(columns.Changed.Where(c => RecreatesColumn(c.A, c.B)).Select(c => c.A))
            .Where(c => TableKept(c.Schema, c.Table)).ToArray();
        foreach (var (x, _) in indexes.Both.Where(i => droppedColumns.Any(c => c.Schema == i.A.Schema && c.Table == i.A.Table && Mentions(i.A.Definition, c.Name))))
        {
            recreated.Add((ObjectKind.Index, x.Key));
        }
        foreach (var (x, _) in constraints.Both.Where(k => droppedColumns.Any(c => c.Schema == k.A.Schema && c.Table == k.A.Table && Mentions(k.A.Definition, c.Name))))
        {
            recreated.Add((ObjectKind.Constraint, x.Key));
        }
        foreach (var (x, _) in policies.Both.Where(p => reshaped.Contains($"{p.A.Schema}.{p.A.Table}"))) recreated.Add((ObjectKind.Policy, x.Key));

        // A foreign key leans on the referenced table's key: when that key is dropped or rebuilt, so is the foreign key.
        var movedKeys = constraints.A.Values
            .Where(c => c.Type is "p" or "u" && (!constraints.B.ContainsKey(c.Key) || recreated.Contains((ObjectKind.Constraint, c.Key))))
            .Select(c => (c.Schema, c.Table)).ToHashSet();
        foreach (var (x, _) in constraints.Both.Where(c => c.A.Type == "f" && movedKeys.Any(k => References(c.A, k.Schema, k.Table))))
        {
            recreated.Add((ObjectKind.Constraint, x.Key));
        }

        var goneFunctions = functions.Removed.Select(f => f.Key)
            .Concat(recreated.Where(r => r.Item1 == ObjectKind.Function).Select(r => r.Item2)).ToHashSet();
        foreach (var (x, _) in triggers.Both.Where(t => t.A.Definition != t.B.Definition || t.A.Function != t.B.Function
            || goneFunctions.Contains(t.A.Function)
            || (reshaped.Contains($"{t.A.Schema}.{t.A.Table}") && (t.A.Definition.Contains(" WHEN ", StringComparison.Ordinal)
                || t.A.Definition.Contains(" OF ", StringComparison.Ordinal)))))
        {
            recreated.Add((ObjectKind.Trigger, x.Key));
        }

        // Views: a changed view, and every view over something dropped, reshaped or rebuilt, until nothing more moves.
        var moved = new HashSet<string>(reshaped.Concat(goneFunctions).Concat(tables.Removed.Select(t => t.Key)));
        foreach (var (x, _) in views.Changed)
        {
            moved.Add(x.Key);
            recreated.Add((ObjectKind.View, x.Key));
        }
        foreach (var v in views.Removed) moved.Add(v.Key);
        bool grew;
        do
        {
            grew = false;
            foreach (var (x, _) in views.Both.Where(v => !IsRecreated(ObjectKind.View, v.A.Key) && DependsOn(v.A).Any(moved.Contains)).ToArray())
            {
                recreated.Add((ObjectKind.View, x.Key));
                moved.Add(x.Key);
                grew = true;
            }
        }
        while (grew);

        // An index on a materialized view goes with the view when it is rebuilt.
        foreach (var (x, _) in indexes.Both.Where(i => IsRecreated(ObjectKind.View, $"{i.A.Schema}.{i.A.Table}")))
        {
            recreated.Add((ObjectKind.Index, x.Key));
        }
    }

    // Whether a definition names the column (as a whole word, bare or quoted); a false match only rebuilds more.
    private static bool Mentions(string definition, string column) =>
        System.Text.RegularExpressions.Regex.IsMatch(definition, $@"(?<![\w$""]){System.Text.RegularExpressions.Regex.Escape(ParityNames.Quote(column))}(?![\w$""])");

    /// <summary>Whether the relation an index is on stays as it is: a kept table, or a kept view not rebuilt.</summary>
    private bool RelationKept(string schema, string relation) =>
        TableKept(schema, relation) || (views.A.ContainsKey($"{schema}.{relation}") && views.B.ContainsKey($"{schema}.{relation}")
            && !IsRecreated(ObjectKind.View, $"{schema}.{relation}"));

    private static IEnumerable<string> DependsOn(ViewObject v) => v.DependsOn.Length == 0 ? [] : v.DependsOn.Split(';');

    private bool References(ConstraintObject fk, string schema, string table)
    {
        var at = fk.Definition.IndexOf(" REFERENCES ", StringComparison.Ordinal);
        if (at < 0) return false;
        var rest = fk.Definition[(at + " REFERENCES ".Length)..];
        var name = rest[..Math.Max(0, rest.IndexOf('(', StringComparison.Ordinal))];
        return name == ParityNames.Qualified(schema, table) || (a.IsSchemaScope && schema == a.Scope && name == ParityNames.Quote(table));
    }

    private bool IsRecreated(ObjectKind kind, string key) => recreated.Contains((kind, key));

    private void Drop(ObjectKind kind, string key, string sql, string? dataLoss = null) => drops.Add(new(kind, key, sql, dataLoss));

    private void Create(ObjectKind kind, string key, string sql) => creates.Add(new(kind, key, sql));

    /// <summary>Views in an order where each comes after the views it reads (ties by key, so the plan is stable).</summary>
    private static List<ViewObject> InDependencyOrder(IEnumerable<ViewObject> set)
    {
        var byKey = set.ToDictionary(v => v.Key);
        var ordered = new List<ViewObject>();
        var seen = new HashSet<string>();
        void Visit(ViewObject v)
        {
            if (!seen.Add(v.Key)) return;
            foreach (var dep in DependsOn(v).Order(StringComparer.Ordinal))
            {
                if (byKey.TryGetValue(dep, out var inner)) Visit(inner);
            }
            ordered.Add(v);
        }
        foreach (var v in byKey.Values.OrderBy(v => v.Key, StringComparer.Ordinal)) Visit(v);
        return ordered;
    }
}
