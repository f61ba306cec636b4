using ControlPlane.Migrations.Parity;
using CsCheck;
using Xunit;

namespace ControlPlane.Tests.Parity;

public sealed class SchemaSnapshotTests
{
    [Fact]
    public void The_hash_does_not_depend_on_the_order_the_catalog_returned_its_rows() =>
        Gen.Select(SnapshotGen.Objects(), Gen.Int).Sample((objects, seed) =>
        {
            var shuffled = objects.OrderBy(_ => new Random(seed).Next()).ToArray();
            new Random(seed).Shuffle(shuffled);
            Assert.Equal(SchemaSnapshot.Create("app", objects).Hash(), SchemaSnapshot.Create("app", shuffled).Hash());
        }, iter: 300);

    [Fact]
    public void Different_content_hashes_differently() =>
        SnapshotGen.Snapshot().Sample(snapshot =>
        {
            var more = SchemaSnapshot.Create("app", snapshot.Objects.Append(new TableObject("app", "extra_table", false, false)));
            Assert.NotEqual(snapshot.Hash(), more.Hash());
        }, iter: 100);

    [Fact]
    public void A_snapshot_survives_its_json_with_the_same_hash() =>
        SnapshotGen.Snapshot().Sample(snapshot =>
        {
            var read = SchemaSnapshot.FromJson(snapshot.ToJson());
            Assert.Equal(snapshot.Hash(), read.Hash());
            Assert.Equal(snapshot.ToJson(), read.ToJson());
        }, iter: 100);

    [Fact]
    public void A_catalog_listing_an_object_twice_is_refused()
    {
        var table = new TableObject("app", "orders", false, false);
        var e = Assert.Throws<ArgumentException>(() => SchemaSnapshot.Create("app", [table, table with { RowSecurity = true }]));
        Assert.Contains("Table app.orders twice", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_shape_in_another_schema_hashes_the_same_once_moved() =>
        SnapshotGen.Snapshot("tenant_a").Sample(snapshot =>
        {
            var other = SchemaSnapshot.Create("tenant_b", snapshot.Objects.Select(o => o.InSchema("tenant_b")));
            Assert.Equal(snapshot.Hash(), other.InSchema("tenant_a").Hash());
        }, iter: 100);
}
