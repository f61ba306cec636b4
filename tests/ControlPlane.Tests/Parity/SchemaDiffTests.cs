using ControlPlane.Migrations.Parity;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Parity;

public sealed class SchemaDiffTests
{
    private static SchemaSnapshot Schema(string scope, params ISchemaObject[] objects) =>
        SchemaSnapshot.Create(scope, objects.Prepend(new SchemaObject(scope)));

    private static ColumnObject Column(string table, string name, string type = "text", bool notNull = false, string @default = "") =>
        new("app", table, name, type, notNull, @default, "", "");

    [Fact]
    public void A_snapshot_compared_with_itself_has_no_differences_and_no_statements() =>
        SnapshotGen.Snapshot().Sample(snapshot =>
        {
            Assert.Empty(SchemaDiff.Compare(snapshot, snapshot));
            var plan = ReconcilePlanner.Plan(snapshot, snapshot);
            Assert.True(plan.Equal);
            Assert.Empty(plan.Statements);
            Assert.Equal("", plan.Script());
        }, iter: 200);

    [Fact]
    public void Every_difference_is_in_one_direction_or_the_other() =>
        Gen.Select(SnapshotGen.Snapshot(), SnapshotGen.Snapshot()).Sample((a, b) =>
        {
            var forward = SchemaDiff.Compare(a, b);
            var backward = SchemaDiff.Compare(b, a);
            Assert.Equal(forward.Count(d => d.Type == DifferenceType.Added), backward.Count(d => d.Type == DifferenceType.Removed));
            Assert.Equal(forward.Count(d => d.Type == DifferenceType.Changed), backward.Count(d => d.Type == DifferenceType.Changed));
        }, iter: 200);

    [Fact]
    public void A_column_added_by_hand_shows_as_an_added_column()
    {
        var template = Schema("tenant_template", new TableObject("tenant_template", "orders", false, false),
            Column("orders", "id", "bigint", notNull: true) with { Schema = "tenant_template" });
        var tenant = Schema("tenant_acme", new TableObject("tenant_acme", "orders", false, false),
            Column("orders", "id", "bigint", notNull: true) with { Schema = "tenant_acme" },
            Column("orders", "note") with { Schema = "tenant_acme" });

        var difference = Assert.Single(SchemaDiff.Compare(template, tenant));

        Assert.Equal((ObjectKind.Column, "tenant_template.orders.note", DifferenceType.Added), (difference.Kind, difference.Object, difference.Type));
        var statement = Assert.Single(ReconcilePlanner.Plan(template, tenant).Statements);
        Assert.Equal("ALTER TABLE tenant_template.orders ADD COLUMN note text", statement.Sql);
    }

    [Fact]
    public void A_changed_column_type_is_one_field_difference_and_a_rewrite()
    {
        var a = Schema("app", new TableObject("app", "orders", false, false), Column("orders", "region", "varchar(10)"));
        var b = Schema("app", new TableObject("app", "orders", false, false), Column("orders", "region", "text"));

        var difference = Assert.Single(SchemaDiff.Compare(a, b));
        Assert.Equal(("type", "varchar(10)", "text"), (difference.Field, difference.A, difference.B));
        var statement = Assert.Single(ReconcilePlanner.Plan(a, b).Statements);
        Assert.True(statement.Rewrites);
        Assert.Equal(ControlPlane.Migrations.Impact.LockLevel.AccessExclusive, statement.Lock);
    }

    [Fact]
    public void Dropping_a_table_is_flagged_as_data_loss()
    {
        var a = Schema("app", new TableObject("app", "orders", false, false), Column("orders", "id", "bigint"));
        var b = Schema("app");

        var statement = Assert.Single(ReconcilePlanner.Plan(a, b).Statements);

        Assert.Equal("DROP TABLE IF EXISTS app.orders", statement.Sql);
        Assert.True(statement.DataLoss);
        Assert.Contains(statement.Hazards, h => h.StartsWith("data loss", StringComparison.Ordinal));
    }

    [Fact]
    public void A_view_over_a_column_whose_type_changes_is_dropped_before_and_created_after()
    {
        var view = new ViewObject("app", "v", false, "SELECT orders.region FROM orders", "app.orders");
        var a = Schema("app", new TableObject("app", "orders", false, false), Column("orders", "region", "varchar(10)"), view);
        var b = Schema("app", new TableObject("app", "orders", false, false), Column("orders", "region", "text"), view);

        var sql = ReconcilePlanner.Plan(a, b).Statements.Select(s => s.Sql).ToArray();

        Assert.Equal(["DROP VIEW IF EXISTS app.v", "ALTER TABLE app.orders ALTER COLUMN region TYPE text USING region::text",
            "CREATE VIEW app.v AS\nSELECT orders.region FROM orders"], sql);
    }

    [Fact]
    public void A_schema_snapshot_and_a_database_snapshot_are_not_compared()
    {
        var e = Assert.Throws<IncompatibleSnapshotsException>(() => SchemaDiff.Compare(Schema("app"), SchemaSnapshot.Create("", [])));
        Assert.Contains("snapshot of schema app", e.Message, StringComparison.Ordinal);
    }
}
