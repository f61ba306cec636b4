using System.Globalization;
using static ControlPlane.Migrations.Parity.ParityNames;

namespace ControlPlane.Migrations.Parity;

/// <summary>The text of each DDL statement a reconcile script is made of, one object at a time (pure).</summary>
internal static class ParityDdl
{
    public static string Table(TableObject t) => Qualified(t.Schema, t.Name);

    public static string CreateSchema(SchemaObject s) => $"CREATE SCHEMA {Quote(s.Schema)}";

    public static string DropSchema(SchemaObject s) => $"DROP SCHEMA {Quote(s.Schema)}";

    public static string CreateExtension(ExtensionObject e) =>
        $"CREATE EXTENSION {Quote(e.Name)} WITH SCHEMA {Quote(e.Schema)} VERSION {Literal(e.Version)}";

    public static string DropExtension(ExtensionObject e) => $"DROP EXTENSION {Quote(e.Name)}";

    public static string CreateSequence(SequenceObject s) => $"CREATE SEQUENCE {Qualified(s.Schema, s.Name)}{SequenceOptions(s)}";

    public static string AlterSequence(SequenceObject s) => $"ALTER SEQUENCE {Qualified(s.Schema, s.Name)}{SequenceOptions(s)}";

    public static string DropSequence(SequenceObject s) => $"DROP SEQUENCE IF EXISTS {Qualified(s.Schema, s.Name)}";

    public static string SequenceOwner(SequenceObject s) =>
        $"ALTER SEQUENCE {Qualified(s.Schema, s.Name)} OWNED BY {(s.OwnedBy.Length == 0 ? "NONE" : OwnerColumn(s))}";

    private static string OwnerColumn(SequenceObject s)
    {
        var dot = s.OwnedBy.LastIndexOf('.');
        return $"{Qualified(s.Schema, s.OwnedBy[..dot])}.{Quote(s.OwnedBy[(dot + 1)..])}";
    }

    private static string SequenceOptions(SequenceObject s) => string.Create(CultureInfo.InvariantCulture,
        $" AS {s.DataType} INCREMENT BY {s.Increment} MINVALUE {s.Min} MAXVALUE {s.Max} START WITH {s.Start} CACHE {s.Cache}{(s.Cycle ? " CYCLE" : " NO CYCLE")}");

    public static string CreateFunction(FunctionObject f, bool replace)
    {
        var head = $"CREATE {(replace ? "OR REPLACE " : "")}{(f.Procedure ? "PROCEDURE" : "FUNCTION")} {Qualified(f.Schema, f.Name)}({f.Arguments})";
        var returns = f.Procedure ? "" : $" RETURNS {f.Result}";
        var traits = f.Procedure ? "" : $" {f.Volatility.ToUpperInvariant()}{(f.Strict ? " STRICT" : "")}";
        var security = f.SecurityDefiner ? " SECURITY DEFINER" : "";
        var body = f.AtomicBody ? f.Body : $"AS {DollarQuoted(f.Body)}";
        return $"{head}{returns} LANGUAGE {Quote(f.Language)}{traits}{security}\n{body}";
    }

    public static string DropFunction(FunctionObject f) =>
        $"DROP {(f.Procedure ? "PROCEDURE" : "FUNCTION")} IF EXISTS {Qualified(f.Schema, f.Name)}({f.IdentityArguments})";

    public static string CreateTable(TableObject t, IEnumerable<ColumnObject> columns)
    {
        var list = columns.Select(c => "    " + ColumnDefinition(c)).ToArray();
        return list.Length == 0 ? $"CREATE TABLE {Table(t)} ()" : $"CREATE TABLE {Table(t)} (\n{string.Join(",\n", list)}\n)";
    }

    public static string DropTable(TableObject t) => $"DROP TABLE IF EXISTS {Table(t)}";

    public static string RowSecurity(TableObject t) =>
        $"ALTER TABLE {Table(t)} {(t.RowSecurity ? "ENABLE" : "DISABLE")} ROW LEVEL SECURITY";

    public static string ForceRowSecurity(TableObject t) =>
        $"ALTER TABLE {Table(t)} {(t.ForceRowSecurity ? "FORCE" : "NO FORCE")} ROW LEVEL SECURITY";

    public static string ColumnDefinition(ColumnObject c)
    {
        var text = $"{Quote(c.Name)} {c.Type}";
        if (c.Generated.Length > 0) text += $" GENERATED ALWAYS AS ({c.Generated}) STORED";
        if (c.Identity.Length > 0) text += $" GENERATED {c.Identity.ToUpperInvariant()} AS IDENTITY";
        if (c.Default.Length > 0) text += $" DEFAULT {c.Default}";
        return c.NotNull ? text + " NOT NULL" : text;
    }

    private static string AlterColumn(ColumnObject c) => $"ALTER TABLE {Qualified(c.Schema, c.Table)} ALTER COLUMN {Quote(c.Name)}";

    public static string AddColumn(ColumnObject c) => $"ALTER TABLE {Qualified(c.Schema, c.Table)} ADD COLUMN {ColumnDefinition(c)}";

    public static string DropColumn(ColumnObject c) => $"ALTER TABLE {Qualified(c.Schema, c.Table)} DROP COLUMN IF EXISTS {Quote(c.Name)}";

    public static string ColumnType(ColumnObject c) => $"{AlterColumn(c)} TYPE {c.Type} USING {Quote(c.Name)}::{c.Type}";

    public static string DropDefault(ColumnObject c) => $"{AlterColumn(c)} DROP DEFAULT";

    public static string SetDefault(ColumnObject c) => $"{AlterColumn(c)} SET DEFAULT {c.Default}";

    public static string NotNull(ColumnObject c) => $"{AlterColumn(c)} {(c.NotNull ? "SET" : "DROP")} NOT NULL";

    public static string DropExpression(ColumnObject c) => $"{AlterColumn(c)} DROP EXPRESSION";

    public static string AddIdentity(ColumnObject c) => $"{AlterColumn(c)} ADD GENERATED {c.Identity.ToUpperInvariant()} AS IDENTITY";

    public static string SetIdentity(ColumnObject c) => $"{AlterColumn(c)} SET GENERATED {c.Identity.ToUpperInvariant()}";

    public static string DropIdentity(ColumnObject c) => $"{AlterColumn(c)} DROP IDENTITY";

    public static string AddConstraint(ConstraintObject c) =>
        $"ALTER TABLE {Qualified(c.Schema, c.Table)} ADD CONSTRAINT {Quote(c.Name)} {c.Definition}{(c.Validated ? "" : " NOT VALID")}";

    public static string DropConstraint(ConstraintObject c) =>
        $"ALTER TABLE {Qualified(c.Schema, c.Table)} DROP CONSTRAINT IF EXISTS {Quote(c.Name)}";

    public static string ValidateConstraint(ConstraintObject c) =>
        $"ALTER TABLE {Qualified(c.Schema, c.Table)} VALIDATE CONSTRAINT {Quote(c.Name)}";

    public static string DropIndex(IndexObject i) => $"DROP INDEX IF EXISTS {Qualified(i.Schema, i.Name)}";

    public static string Reindex(IndexObject i) => $"REINDEX INDEX {Qualified(i.Schema, i.Name)}";

    public static string CreateView(ViewObject v) =>
        $"CREATE {(v.Materialized ? "MATERIALIZED VIEW" : "VIEW")} {Qualified(v.Schema, v.Name)} AS\n{v.Definition}";

    public static string DropView(ViewObject v) =>
        $"DROP {(v.Materialized ? "MATERIALIZED VIEW" : "VIEW")} IF EXISTS {Qualified(v.Schema, v.Name)}";

    public static string DropTrigger(TriggerObject t) => $"DROP TRIGGER IF EXISTS {Quote(t.Name)} ON {Qualified(t.Schema, t.Table)}";

    public static string TriggerEnabled(TriggerObject t) => $"ALTER TABLE {Qualified(t.Schema, t.Table)} " + t.Enabled switch
    {
        "D" => "DISABLE",
        "R" => "ENABLE REPLICA",
        "A" => "ENABLE ALWAYS",
        _ => "ENABLE",
    } + $" TRIGGER {Quote(t.Name)}";

    public static string CreatePolicy(PolicyObject p)
    {
        var roles = string.Join(", ", p.Roles.Split(',').Select(r => r == "PUBLIC" ? "PUBLIC" : Quote(r)));
        var text = $"CREATE POLICY {Quote(p.Name)} ON {Qualified(p.Schema, p.Table)} AS {(p.Permissive ? "PERMISSIVE" : "RESTRICTIVE")} FOR {p.Command} TO {roles}";
        if (p.Using.Length > 0) text += $" USING ({p.Using})";
        return p.Check.Length > 0 ? text + $" WITH CHECK ({p.Check})" : text;
    }

    public static string DropPolicy(PolicyObject p) => $"DROP POLICY IF EXISTS {Quote(p.Name)} ON {Qualified(p.Schema, p.Table)}";

    public static string Grant(GrantObject g) =>
        $"GRANT {g.Privilege} ON {GrantTarget(g)} TO {Grantee(g)}{(g.Grantable ? " WITH GRANT OPTION" : "")}";

    public static string Revoke(GrantObject g, bool grantOptionOnly = false) =>
        $"REVOKE {(grantOptionOnly ? "GRANT OPTION FOR " : "")}{g.Privilege} ON {GrantTarget(g)} FROM {Grantee(g)}";

    private static string Grantee(GrantObject g) => g.Grantee == "PUBLIC" ? "PUBLIC" : Quote(g.Grantee);

    private static string GrantTarget(GrantObject g) => g.ObjectType switch
    {
        "schema" => $"SCHEMA {Quote(g.Schema)}",
        "function" or "procedure" => $"{g.ObjectType.ToUpperInvariant()} {Routine(g.Schema, g.ObjectName)}",
        _ => $"{g.ObjectType.ToUpperInvariant()} {Qualified(g.Schema, g.ObjectName)}",
    };

    // A routine's relative name is name(argument types).
    private static string Routine(string schema, string nameWithArguments)
    {
        var open = nameWithArguments.IndexOf('(', StringComparison.Ordinal);
        return Qualified(schema, nameWithArguments[..open]) + nameWithArguments[open..];
    }

    public static string Comment(CommentObject c, bool remove)
    {
        var target = c.ObjectType switch
        {
            "schema" => Quote(c.Schema),
            "column" => $"{Qualified(c.Schema, c.Table)}.{Quote(c.Name)}",
            "constraint" or "trigger" or "policy" => $"{Quote(c.Name)} ON {Qualified(c.Schema, c.Table)}",
            "function" or "procedure" => Routine(c.Schema, c.Name),
            _ => Qualified(c.Schema, c.Name),
        };
        return $"COMMENT ON {c.ObjectType.ToUpperInvariant()} {target} IS {(remove ? "NULL" : Literal(c.Text))}";
    }
}
