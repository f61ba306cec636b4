using System.Text.Json;
using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Parsing;

namespace ControlPlane.Migrations.Lint.Rules;

/// <summary>Column types that cost a risky migration later.</summary>
internal static class TypeRules
{
    private static readonly HashSet<string> SmallIntegers = new(StringComparer.Ordinal) { "int4", "int2", "serial", "serial4", "smallserial", "serial2" };

    public static IEnumerable<Rule> All =>
    [
        new(new LintRule("CP016", "serial", Severity.Warning,
                "serial / bigserial column",
                "serial creates a sequence owned loosely by the column: grants, dumps and copies of the table go wrong, and serial (int4) runs out at 2^31.",
                "CREATE TABLE orders (id serial PRIMARY KEY);",
                "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);"),
            Serial),
        new(new LintRule("CP017", "varchar-or-char-length", Severity.Warning,
                "varchar(n) / char(n)",
                "A length limit in the type can only be raised by ALTER COLUMN TYPE (a rewrite on older releases, a lock always); char(n) pads with blanks. text with a CHECK on length changes with NOT VALID + VALIDATE.",
                "CREATE TABLE customers (email varchar(120));",
                "CREATE TABLE customers (email text CHECK (length(email) <= 120));"),
            VarcharLength),
        new(new LintRule("CP018", "timestamp-without-time-zone", Severity.Warning,
                "timestamp without time zone",
                "A timestamp without time zone loses the instant it meant as soon as two sessions or servers disagree on TimeZone.",
                "CREATE TABLE events (at timestamp NOT NULL);",
                "CREATE TABLE events (at timestamptz NOT NULL);"),
            Timestamp),
        new(new LintRule("CP019", "int4-primary-key", Severity.Warning,
                "integer primary key",
                "An int4 key runs out at 2,147,483,647; widening it later is ALTER COLUMN TYPE on the key and every referencing column: a rewrite of each.",
                "CREATE TABLE orders (id integer PRIMARY KEY);",
                "CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY);"),
            IntegerPrimaryKey),
    ];

    private static IEnumerable<RuleHit> Serial(StatementContext ctx)
    {
        foreach (var (table, column) in Statements.ColumnDefinitions(ctx).Where(c => ColumnFacts.IsSerial(c.Column)))
        {
            var name = column.Str("colname");
            yield return new RuleHit($"{table}.{name} is {column.Field("typeName").TypeName()}",
                $"{name} bigint GENERATED ALWAYS AS IDENTITY", ctx.At(column));
        }
    }

    private static IEnumerable<RuleHit> VarcharLength(StatementContext ctx)
    {
        foreach (var (table, column) in Statements.ColumnDefinitions(ctx))
        {
            var type = column.Field("typeName");
            var name = type.TypeName();
            if ((name == "varchar" && type.Items("typmods").Any()) || name == "bpchar")
            {
                var length = type.Items("typmods").Select(Length).FirstOrDefault();
                var colname = column.Str("colname");
                yield return new RuleHit($"{table}.{colname} is {(name == "bpchar" ? "char" : "varchar")}({length})",
                    $"{colname} text CHECK (length({colname}) <= {length})", ctx.At(column));
            }
        }
    }

    private static IEnumerable<RuleHit> Timestamp(StatementContext ctx)
    {
        foreach (var (table, column) in Statements.ColumnDefinitions(ctx).Where(c => c.Column.Field("typeName").TypeName() == "timestamp"))
        {
            var name = column.Str("colname");
            yield return new RuleHit($"{table}.{name} is timestamp without time zone", $"{name} timestamptz", ctx.At(column));
        }
    }

    private static IEnumerable<RuleHit> IntegerPrimaryKey(StatementContext ctx)
    {
        var definitions = Statements.ColumnDefinitions(ctx).ToArray();
        var keyColumns = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (_, column) in definitions)
        {
            if (ColumnFacts.Constraints(column).Any(c => c.Str("contype") == "CONSTR_PRIMARY"))
            {
                keyColumns.Add(column.Str("colname"));
            }
        }
        if (ctx.Statement.Kind == "CreateStmt")
        {
            foreach (var constraint in ctx.Statement.Node.Nodes("tableElts", "Constraint").Where(c => c.Str("contype") == "CONSTR_PRIMARY"))
            {
                keyColumns.UnionWith(constraint.Names("keys"));
            }
        }
        foreach (var (table, column) in definitions)
        {
            var name = column.Str("colname");
            if (keyColumns.Contains(name) && SmallIntegers.Contains(column.Field("typeName").TypeName()))
            {
                yield return new RuleHit($"primary key {table}.{name} is {column.Field("typeName").TypeName()}",
                    $"{name} bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY", ctx.At(column));
            }
        }
    }

    private static int Length(JsonElement typmod) =>
        typmod.Is("A_Const", out var constant) ? constant.Field("ival").Int("ival") : 0;
}
