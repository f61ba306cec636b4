using static ControlPlane.Migrations.Parity.ParityDdl;

namespace ControlPlane.Migrations.Parity;

internal sealed partial class ReconcileBuilder
{
    // Privileges and comments are compared with what A will hold once the objects above are in place: an object
    // created or recreated starts with PostgreSQL's defaults (EXECUTE to PUBLIC for a routine, nothing else beyond
    // its owner) and no comment; an object that goes takes its privileges and comment with it.
    private void ReconcileGrants()
    {
        var expected = a.Grants.Where(g => Exists(GrantTarget(g)) && !IsFresh(GrantTarget(g))).ToList();
        expected.AddRange(b.Functions.Where(f => IsFresh((ObjectKind.Function, f.Key))).Select(f =>
            new GrantObject(f.Schema, f.Procedure ? "procedure" : "function", $"{f.Name}({f.IdentityArguments})", "PUBLIC", "EXECUTE", false)));
        var now = expected.ToDictionary(g => g.Key);
        var wanted = b.Grants.Select(g => g.Key).ToHashSet();
        foreach (var g in now.Values.Where(g => !wanted.Contains(g.Key)).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            Create(ObjectKind.Grant, g.Key, Revoke(g));
        }
        foreach (var g in b.Grants)
        {
            if (!now.TryGetValue(g.Key, out var held) || (g.Grantable && !held.Grantable)) Create(ObjectKind.Grant, g.Key, Grant(g));
            else if (held.Grantable && !g.Grantable) Create(ObjectKind.Grant, g.Key, Revoke(g, grantOptionOnly: true));
        }
    }

    private void ReconcileComments()
    {
        var now = a.Comments.Where(c => Exists(CommentTarget(c)) && !IsFresh(CommentTarget(c))).ToDictionary(c => c.Key);
        var wanted = b.Comments.Select(c => c.Key).ToHashSet();
        foreach (var c in now.Values.Where(c => !wanted.Contains(c.Key)))
        {
            Create(ObjectKind.Comment, c.Key, Comment(c, remove: true));
        }
        foreach (var c in b.Comments.Where(c => !now.TryGetValue(c.Key, out var held) || held.Text != c.Text))
        {
            Create(ObjectKind.Comment, c.Key, Comment(c, remove: false));
        }
    }

    private bool Exists((ObjectKind Kind, string Key) target) =>
        inB.Contains(target) || (target.Kind == ObjectKind.Table && inB.Contains((ObjectKind.View, target.Key)));

    private bool IsFresh((ObjectKind Kind, string Key) target)
    {
        var kinds = target.Kind == ObjectKind.Table ? new[] { ObjectKind.Table, ObjectKind.View } : [target.Kind];
        return kinds.Any(k => recreated.Contains((k, target.Key)))
            || !kinds.Any(k => inA.Contains((k, target.Key)));
    }

    private static (ObjectKind, string) GrantTarget(GrantObject g) => g.ObjectType switch
    {
        "schema" => (ObjectKind.Schema, g.Schema),
        "sequence" => (ObjectKind.Sequence, $"{g.Schema}.{g.ObjectName}"),
        "function" or "procedure" => (ObjectKind.Function, $"{g.Schema}.{g.ObjectName}"),
        _ => (ObjectKind.Table, $"{g.Schema}.{g.ObjectName}"),
    };

    private static (ObjectKind, string) CommentTarget(CommentObject c) => c.ObjectType switch
    {
        "schema" => (ObjectKind.Schema, c.Schema),
        "column" => (ObjectKind.Column, $"{c.Schema}.{c.Table}.{c.Name}"),
        "constraint" => (ObjectKind.Constraint, $"{c.Schema}.{c.Table}.{c.Name}"),
        "trigger" => (ObjectKind.Trigger, $"{c.Schema}.{c.Table}.{c.Name}"),
        "policy" => (ObjectKind.Policy, $"{c.Schema}.{c.Table}.{c.Name}"),
        "function" or "procedure" => (ObjectKind.Function, $"{c.Schema}.{c.Name}"),
        "index" => (ObjectKind.Index, $"{c.Schema}.{c.Name}"),
        "sequence" => (ObjectKind.Sequence, $"{c.Schema}.{c.Name}"),
        _ => (ObjectKind.Table, $"{c.Schema}.{c.Name}"),
    };
}
