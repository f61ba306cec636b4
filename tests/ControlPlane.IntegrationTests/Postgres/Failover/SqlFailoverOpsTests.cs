using ControlPlane.Postgres.Failover;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Postgres.Failover;

[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class SqlFailoverOpsTests(PostgresPairFixture pair)
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Fenced_writes_fail_read_only_and_unfenced_writes_succeed()
    {
        var primary = pair.Primary.Endpoint;
        await using var earlier = await Sql.OpenAsync(primary);
        int terminated;
        try
        {
            terminated = await SqlFailoverOps.FenceWritesAsync(primary, None);

            var refused = await Assert.ThrowsAsync<PostgresException>(() => Sql.ScalarAsync(primary, "CREATE TABLE fenced_write (id int)"));
            Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, refused.SqlState);
            await Assert.ThrowsAnyAsync<NpgsqlException>(() => Sql.ScalarAsync(earlier, "SELECT 1"));
        }
        finally
        {
            await SqlFailoverOps.UnfenceWritesAsync(primary, None);
        }
        Assert.True(terminated >= 1, $"terminated {terminated} sessions; expected the earlier one among them");
        await Sql.ScalarAsync(primary, "CREATE TABLE IF NOT EXISTS unfenced_write (id int); INSERT INTO unfenced_write VALUES (1)");
    }

    [Fact]
    public async Task Synchronous_standby_names_round_trip_and_reset()
    {
        var primary = pair.Primary.Endpoint;
        var names = SynchronousStandbyNames.Any(1, [pair.Standby.Name]);
        try
        {
            await SqlFailoverOps.SetSynchronousStandbyNamesAsync(primary, names, None);
            Assert.Equal(names, await SqlFailoverOps.GetSynchronousStandbyNamesAsync(primary, None));
        }
        finally
        {
            await SqlFailoverOps.SetSynchronousStandbyNamesAsync(primary, SynchronousStandbyNames.None, None);
        }
        Assert.Equal("", await SqlFailoverOps.GetSynchronousStandbyNamesAsync(primary, None));
    }
}
