using ControlPlane.Grains.Monitoring;
using ControlPlane.Postgres.Monitoring;
using Xunit;

namespace ControlPlane.Tests.Monitoring;

/// <summary>Index advice on fixed statistics.</summary>
public sealed class IndexAdvisorTests
{
    private static IndexUsage Index(string name, long scans, string signature, bool unique = false, bool primary = false, bool valid = true, string column = "a") =>
        new("public", "orders", name, scans, 8192, unique, primary, valid, $"CREATE INDEX {name} ON public.orders USING btree ({column})", signature);

    private static HeavySample Sample(IReadOnlyList<IndexUsage> indexes, IReadOnlyList<TableScans>? tables = null, IReadOnlyList<StatementStats>? statements = null) =>
        new(DateTimeOffset.UnixEpoch, "postgres", true, statements ?? [], tables ?? [], indexes, TimeSpan.Zero);

    [Fact]
    public void An_index_never_scanned_is_advised_for_dropping_but_never_a_primary_key_or_unique_one()
    {
        var advice = IndexAdvisor.Advise(Sample([Index("orders_pkey", 0, "1", primary: true, unique: true), Index("orders_u", 0, "2", unique: true), Index("orders_note", 0, "3")]));
        var only = Assert.Single(advice);
        Assert.Equal(AdviceKind.DropUnusedIndex, only.Kind);
        Assert.Equal("DROP INDEX CONCURRENTLY public.orders_note;", only.Command);
    }

    [Fact]
    public void Of_two_identical_indexes_the_less_used_one_is_advised_as_a_duplicate()
    {
        var advice = IndexAdvisor.Advise(Sample([Index("orders_a", 10, "same"), Index("orders_a2", 3, "same")]));
        var dup = Assert.Single(advice);
        Assert.Equal(AdviceKind.DropDuplicateIndex, dup.Kind);
        Assert.Equal("orders_a2", dup.Index);
        Assert.Equal("duplicates orders_a", dup.Reason);
    }

    [Fact]
    public void An_invalid_index_is_advised_for_a_rebuild()
    {
        var advice = IndexAdvisor.Advise(Sample([Index("orders_broken", 5, "x", valid: false)]));
        Assert.Equal("REINDEX INDEX CONCURRENTLY public.orders_broken;", Assert.Single(advice).Command);
    }

    [Fact]
    public void A_large_table_read_by_big_sequential_scans_gets_an_index_on_the_columns_its_statements_filter_on()
    {
        var table = new TableScans("public", "orders", SeqScans: 100, SeqRowsRead: 10_000_000, IndexScans: 5, LiveRows: 100_000, SizeBytes: 1 << 24);
        var statements = new List<StatementStats>
        {
            new(1, "SELECT count(*) FROM orders WHERE customer = $1 AND status IN ($2, $3)", 500, 1, 1, 1, 0, 0, 0),
            new(2, "SELECT * FROM orders o WHERE o.status = $1", 10, 1, 1, 1, 0, 0, 0),
            new(3, "SELECT * FROM customers WHERE region = $1", 9000, 1, 1, 1, 0, 0, 0),
        };
        var advice = IndexAdvisor.Advise(Sample([Index("orders_pkey", 5, "p", primary: true, unique: true, column: "id")], [table], statements));
        var missing = Assert.Single(advice, a => a.Kind == AdviceKind.AddMissingIndex);
        Assert.Equal(["status", "customer"], missing.Columns);
        Assert.Equal("CREATE INDEX CONCURRENTLY ON public.orders (status, customer);", missing.Command);
    }

    [Fact]
    public void A_column_an_index_already_leads_with_is_not_advised_again()
    {
        var table = new TableScans("public", "orders", 100, 10_000_000, 5, 100_000, 1 << 24);
        var statements = new List<StatementStats> { new(1, "SELECT * FROM orders WHERE a = $1", 500, 1, 1, 1, 0, 0, 0) };
        var advice = IndexAdvisor.Advise(Sample([Index("orders_a", 5, "s")], [table], statements));
        var missing = Assert.Single(advice, a => a.Kind == AdviceKind.AddMissingIndex);
        Assert.Empty(missing.Columns);
        Assert.StartsWith("-- public.orders:", missing.Command, StringComparison.Ordinal);
    }

    [Fact]
    public void A_small_table_gets_no_missing_index_advice()
    {
        var table = new TableScans("public", "orders", 1000, 5_000_000, 0, 5_000, 1 << 20);
        Assert.Empty(IndexAdvisor.Advise(Sample([], [table])));
    }
}
