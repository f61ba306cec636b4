using static ControlPlane.Migrations.Parity.ParityDdl;

namespace ControlPlane.Migrations.Parity;

internal sealed partial class ReconcileBuilder
{
    // Dependents first: nothing is dropped while something kept or not yet dropped still leans on it. Objects on a
    // table that is itself dropped go with it.
    private void DropPhase()
    {
        foreach (var t in triggers.A.Values.Where(t => TableKept(t.Schema, t.Table)
            && (!triggers.B.ContainsKey(t.Key) || IsRecreated(ObjectKind.Trigger, t.Key))))
        {
            Drop(ObjectKind.Trigger, t.Key, DropTrigger(t));
        }
        foreach (var p in policies.A.Values.Where(p => TableKept(p.Schema, p.Table)
            && (!policies.B.ContainsKey(p.Key) || IsRecreated(ObjectKind.Policy, p.Key))))
        {
            Drop(ObjectKind.Policy, p.Key, DropPolicy(p));
        }
        var dropped = views.A.Values.Where(v => !views.B.ContainsKey(v.Key) || IsRecreated(ObjectKind.View, v.Key));
        foreach (var v in Enumerable.Reverse(InDependencyOrder(dropped)))
        {
            Drop(ObjectKind.View, v.Key, DropView(v));
        }
        // A foreign key between two tables that both go would hold the first drop back: it goes first, by name.
        var goneConstraints = constraints.A.Values.Where(c => (c.Type == "f" || TableKept(c.Schema, c.Table))
            && (!constraints.B.ContainsKey(c.Key) || IsRecreated(ObjectKind.Constraint, c.Key))).ToArray();
        foreach (var c in goneConstraints.Where(c => c.Type == "f").Concat(goneConstraints.Where(c => c.Type != "f")))
        {
            Drop(ObjectKind.Constraint, c.Key, DropConstraint(c));
        }
        foreach (var i in indexes.A.Values.Where(i => RelationKept(i.Schema, i.Table)
            && (!indexes.B.ContainsKey(i.Key) || IsRecreated(ObjectKind.Index, i.Key))))
        {
            Drop(ObjectKind.Index, i.Key, DropIndex(i));
        }
        // A default may lean on a sequence about to go, and may not survive a change of type.
        foreach (var (x, y) in columns.Changed.Where(c => DropsDefaultFirst(c.A, c.B)))
        {
            Drop(ObjectKind.Column, x.Key, DropDefault(x));
        }
        // A sequence owned by a column goes with the column: release it first when B keeps it.
        foreach (var (x, y) in sequences.Both.Where(s => s.A.OwnedBy.Length > 0 && s.A.OwnedBy != s.B.OwnedBy))
        {
            Drop(ObjectKind.Sequence, x.Key, SequenceOwner(x with { OwnedBy = "" }));
        }
        foreach (var c in columns.A.Values.Where(c => TableKept(c.Schema, c.Table)
            && (!columns.B.ContainsKey(c.Key) || IsRecreated(ObjectKind.Column, c.Key))))
        {
            var loss = IsRecreated(ObjectKind.Column, c.Key) ? null : $"drops column {c.Table}.{c.Name} and its values";
            Drop(ObjectKind.Column, c.Key, DropColumn(c), loss);
        }
        foreach (var t in tables.Removed)
        {
            Drop(ObjectKind.Table, t.Key, DropTable(t), $"drops table {t.Name} and its rows");
        }
        foreach (var f in functions.A.Values.Where(f => !functions.B.ContainsKey(f.Key) || IsRecreated(ObjectKind.Function, f.Key)))
        {
            Drop(ObjectKind.Function, f.Key, DropFunction(f));
        }
        foreach (var s in sequences.Removed)
        {
            Drop(ObjectKind.Sequence, s.Key, DropSequence(s), $"drops sequence {s.Name} and its current value");
        }
        foreach (var e in extensions.Removed)
        {
            Drop(ObjectKind.Extension, e.Key, DropExtension(e), $"drops extension {e.Name} and every object it owns");
        }
        foreach (var s in schemas.Removed)
        {
            Drop(ObjectKind.Schema, s.Key, DropSchema(s));
        }
    }

    private bool DropsDefaultFirst(ColumnObject x, ColumnObject y) =>
        !IsRecreated(ObjectKind.Column, x.Key) && x.Default.Length > 0 && (x.Default != y.Default || x.Type != y.Type);
}
