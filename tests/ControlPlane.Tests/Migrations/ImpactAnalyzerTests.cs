using ControlPlane.Migrations.Impact;
using ControlPlane.Migrations.Parsing;
using Xunit;

namespace ControlPlane.Tests.Migrations;

/// <summary>Locks, rewrites and scans per statement, on fixed inputs (PostgreSQL 15's documented lock levels).</summary>
public sealed class ImpactAnalyzerTests
{
    private static StatementImpact Impact(string sql) => ImpactAnalyzer.Analyze(Assert.Single(SqlParser.Shared.Parse(sql).Statements));

    [Theory]
    [InlineData("CREATE INDEX i ON orders (a)", LockLevel.Share, false, true)]
    [InlineData("CREATE INDEX CONCURRENTLY i ON orders (a)", LockLevel.ShareUpdateExclusive, false, true)]
    [InlineData("DROP INDEX i", LockLevel.AccessExclusive, false, false)]
    [InlineData("DROP INDEX CONCURRENTLY i", LockLevel.ShareUpdateExclusive, false, false)]
    [InlineData("ALTER TABLE orders ADD COLUMN a text", LockLevel.AccessExclusive, false, false)]
    [InlineData("ALTER TABLE orders ADD COLUMN a text DEFAULT 'x'", LockLevel.AccessExclusive, false, false)]
    [InlineData("ALTER TABLE orders ADD COLUMN a uuid DEFAULT gen_random_uuid()", LockLevel.AccessExclusive, true, false)]
    [InlineData("ALTER TABLE orders ADD COLUMN a bigint GENERATED ALWAYS AS IDENTITY", LockLevel.AccessExclusive, true, false)]
    [InlineData("ALTER TABLE orders ALTER COLUMN a TYPE bigint", LockLevel.AccessExclusive, true, false)]
    [InlineData("ALTER TABLE orders ALTER COLUMN a SET NOT NULL", LockLevel.AccessExclusive, false, true)]
    [InlineData("ALTER TABLE orders ADD CONSTRAINT c CHECK (a > 0)", LockLevel.AccessExclusive, false, true)]
    [InlineData("ALTER TABLE orders ADD CONSTRAINT c CHECK (a > 0) NOT VALID", LockLevel.AccessExclusive, false, false)]
    [InlineData("ALTER TABLE orders VALIDATE CONSTRAINT c", LockLevel.ShareUpdateExclusive, false, true)]
    [InlineData("ALTER TABLE orders SET (fillfactor = 90)", LockLevel.ShareUpdateExclusive, false, false)]
    [InlineData("ALTER TABLE orders SET TABLESPACE fast", LockLevel.AccessExclusive, true, false)]
    [InlineData("ALTER TABLE orders DISABLE TRIGGER t", LockLevel.ShareRowExclusive, false, false)]
    [InlineData("VACUUM orders", LockLevel.ShareUpdateExclusive, false, true)]
    [InlineData("VACUUM FULL orders", LockLevel.AccessExclusive, true, true)]
    [InlineData("CLUSTER orders USING i", LockLevel.AccessExclusive, true, false)]
    [InlineData("REINDEX TABLE orders", LockLevel.Share, false, true)]
    [InlineData("REINDEX INDEX CONCURRENTLY i", LockLevel.ShareUpdateExclusive, false, true)]
    [InlineData("TRUNCATE orders", LockLevel.AccessExclusive, false, false)]
    [InlineData("LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE", LockLevel.ShareRowExclusive, false, false)]
    [InlineData("LOCK TABLE orders", LockLevel.AccessExclusive, false, false)]
    [InlineData("UPDATE orders SET a = 1", LockLevel.RowExclusive, false, true)]
    [InlineData("CREATE TABLE orders (id bigint)", LockLevel.None, false, false)]
    [InlineData("SET lock_timeout = '1s'", LockLevel.None, false, false)]
    public void A_statement_takes_its_documented_lock(string sql, LockLevel level, bool rewrites, bool scans)
    {
        var impact = Impact(sql);

        Assert.Equal((level, rewrites, scans), (impact.Lock, impact.Rewrites, impact.Scans));
    }

    [Fact]
    public void A_foreign_key_locks_both_tables_in_share_row_exclusive()
    {
        var impact = Impact("ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES sales.customers (id) NOT VALID");

        Assert.Contains(new TableLock(new TableName("", "orders"), LockLevel.ShareRowExclusive), impact.Locks);
        Assert.Contains(new TableLock(new TableName("sales", "customers"), LockLevel.ShareRowExclusive), impact.Locks);
    }

    [Fact]
    public void The_strongest_subcommand_sets_the_statement_lock()
    {
        var impact = Impact("ALTER TABLE orders SET (fillfactor = 90), ADD COLUMN a text");

        Assert.Equal(LockLevel.AccessExclusive, impact.Lock);
        Assert.True(impact.BlocksReads);
    }

    [Fact]
    public void Drop_table_names_every_table_with_its_schema()
    {
        var impact = Impact("DROP TABLE a, s.b");

        Assert.Equal(["a", "s.b"], impact.Locks.Select(l => l.Table.ToString()));
    }

    [Fact]
    public void Create_table_reports_what_it_creates()
    {
        Assert.Equal(new TableName("app", "orders"), Assert.Single(Impact("CREATE TABLE app.orders (id bigint)").Creates));
    }

    [Fact]
    public void Lock_levels_print_as_postgresql_spells_them()
    {
        Assert.Equal("SHARE UPDATE EXCLUSIVE", LockLevel.ShareUpdateExclusive.ToSql());
        Assert.Equal("ACCESS EXCLUSIVE", LockLevel.AccessExclusive.ToSql());
    }
}
