using static ControlPlane.Migrations.Parity.ParityDdl;

namespace ControlPlane.Migrations.Parity;

internal sealed partial class ReconcileBuilder
{
    // What everything else leans on first: schemas, extensions, sequences, functions, tables and columns, then keys
    // and indexes, then views, triggers and policies over them, then privileges and comments.
    private void CreatePhase()
    {
        foreach (var s in schemas.Added) Create(ObjectKind.Schema, s.Key, CreateSchema(s));
        foreach (var e in extensions.Added) Create(ObjectKind.Extension, e.Key, CreateExtension(e));
        foreach (var (x, y) in extensions.Changed)
        {
            if (x.Version != y.Version) Create(ObjectKind.Extension, y.Key, $"ALTER EXTENSION {ParityNames.Quote(y.Name)} UPDATE TO {ParityNames.Literal(y.Version)}");
            if (x.Schema != y.Schema) Create(ObjectKind.Extension, y.Key, $"ALTER EXTENSION {ParityNames.Quote(y.Name)} SET SCHEMA {ParityNames.Quote(y.Schema)}");
        }
        foreach (var s in sequences.Added) Create(ObjectKind.Sequence, s.Key, CreateSequence(s));
        foreach (var (_, y) in sequences.Changed.Where(c => c.A with { OwnedBy = "" } != c.B with { OwnedBy = "" }))
        {
            Create(ObjectKind.Sequence, y.Key, AlterSequence(y));
        }
        foreach (var f in functions.B.Values.Where(f => !functions.A.ContainsKey(f.Key) || IsRecreated(ObjectKind.Function, f.Key)))
        {
            Create(ObjectKind.Function, f.Key, CreateFunction(f, replace: false));
        }
        foreach (var (_, y) in functions.Changed.Where(c => !IsRecreated(ObjectKind.Function, c.A.Key)))
        {
            Create(ObjectKind.Function, y.Key, CreateFunction(y, replace: true));
        }
        foreach (var t in tables.Added)
        {
            Create(ObjectKind.Table, t.Key, CreateTable(t, columns.B.Values.Where(c => c.Schema == t.Schema && c.Table == t.Name)));
        }
        foreach (var c in columns.B.Values.Where(c => TableKept(c.Schema, c.Table)
            && (!columns.A.ContainsKey(c.Key) || IsRecreated(ObjectKind.Column, c.Key))))
        {
            Create(ObjectKind.Column, c.Key, AddColumn(c));
        }
        foreach (var (x, y) in columns.Changed.Where(c => !IsRecreated(ObjectKind.Column, c.A.Key))) AlterColumn(x, y);
        foreach (var s in sequences.B.Values.Where(s => s.OwnedBy.Length > 0
            && (!sequences.A.TryGetValue(s.Key, out var was) || was.OwnedBy != s.OwnedBy)))
        {
            Create(ObjectKind.Sequence, s.Key, SequenceOwner(s));
        }
        foreach (var t in tables.B.Values)
        {
            var was = tables.A.GetValueOrDefault(t.Key) ?? t with { RowSecurity = false, ForceRowSecurity = false };
            if (was.RowSecurity != t.RowSecurity) Create(ObjectKind.Table, t.Key, RowSecurity(t));
            if (was.ForceRowSecurity != t.ForceRowSecurity) Create(ObjectKind.Table, t.Key, ForceRowSecurity(t));
        }
        CreateConstraints();
        CreateIndexes(onViews: false);
        foreach (var v in InDependencyOrder(views.B.Values.Where(v => !views.A.ContainsKey(v.Key) || IsRecreated(ObjectKind.View, v.Key))))
        {
            Create(ObjectKind.View, v.Key, CreateView(v));
        }
        CreateIndexes(onViews: true);
        CreateTriggers();
        foreach (var p in policies.B.Values.Where(p => !policies.A.ContainsKey(p.Key) || IsRecreated(ObjectKind.Policy, p.Key)))
        {
            Create(ObjectKind.Policy, p.Key, CreatePolicy(p));
        }
        ReconcileGrants();
        ReconcileComments();
    }

    // Per column, in the order PostgreSQL accepts: an expression goes before a type changes, NOT NULL comes before
    // an identity is added and goes after one is dropped, the default comes back last.
    private void AlterColumn(ColumnObject x, ColumnObject y)
    {
        if (x.Generated.Length > 0 && y.Generated.Length == 0) Create(ObjectKind.Column, y.Key, DropExpression(y));
        if (x.Type != y.Type) Create(ObjectKind.Column, y.Key, ColumnType(y));
        if (y.NotNull && !x.NotNull) Create(ObjectKind.Column, y.Key, NotNull(y));
        if (x.Identity.Length == 0 && y.Identity.Length > 0) Create(ObjectKind.Column, y.Key, AddIdentity(y));
        else if (x.Identity.Length > 0 && y.Identity.Length == 0) Create(ObjectKind.Column, y.Key, DropIdentity(y));
        else if (x.Identity != y.Identity) Create(ObjectKind.Column, y.Key, SetIdentity(y));
        if (!y.NotNull && x.NotNull) Create(ObjectKind.Column, y.Key, NotNull(y));
        if (y.Default.Length > 0 && (y.Default != x.Default || DropsDefaultFirst(x, y))) Create(ObjectKind.Column, y.Key, SetDefault(y));
    }

    private void CreateConstraints()
    {
        var fresh = constraints.B.Values.Where(c => !constraints.A.ContainsKey(c.Key) || IsRecreated(ObjectKind.Constraint, c.Key)).ToArray();
        foreach (var c in fresh.Where(c => c.Type != "f").Concat(fresh.Where(c => c.Type == "f")))
        {
            Create(ObjectKind.Constraint, c.Key, AddConstraint(c));
        }
        foreach (var (_, y) in constraints.Changed.Where(c => !IsRecreated(ObjectKind.Constraint, c.A.Key)))
        {
            Create(ObjectKind.Constraint, y.Key, ValidateConstraint(y));
        }
    }

    private void CreateIndexes(bool onViews)
    {
        var wanted = indexes.B.Values.Where(i => views.B.ContainsKey($"{i.Schema}.{i.Table}") == onViews).ToArray();
        foreach (var i in wanted.Where(i => !indexes.A.ContainsKey(i.Key) || IsRecreated(ObjectKind.Index, i.Key)))
        {
            Create(ObjectKind.Index, i.Key, i.Definition);
            if (!i.Valid) Notes.Add($"index {i.Key} is invalid in B; the script builds it valid");
        }
        foreach (var (x, y) in indexes.Changed.Where(c => wanted.Contains(c.B) && !IsRecreated(ObjectKind.Index, c.A.Key)))
        {
            if (y.Valid) Create(ObjectKind.Index, y.Key, Reindex(y));
            else Notes.Add($"index {y.Key} is invalid in B and valid in A; no statement makes an index invalid");
        }
    }

    private void CreateTriggers()
    {
        foreach (var t in triggers.B.Values)
        {
            var fresh = !triggers.A.TryGetValue(t.Key, out var was) || IsRecreated(ObjectKind.Trigger, t.Key);
            if (fresh) Create(ObjectKind.Trigger, t.Key, t.Definition);
            if (fresh ? t.Enabled != "O" : was!.Enabled != t.Enabled) Create(ObjectKind.Trigger, t.Key, TriggerEnabled(t));
        }
    }
}
