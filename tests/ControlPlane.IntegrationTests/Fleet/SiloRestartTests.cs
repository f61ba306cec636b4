using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Fleet;

[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class SiloRestartTests(SiloFixture fixture)
{
    [Fact]
    public async Task A_restart_reuses_the_instances_ports_data_and_tier_state()
    {
        var before = await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(1));
        var oltp = before.Tiers.Single(t => t.Name == "oltp");
        var primary = oltp.Replicas.Single(r => r.Name == oltp.Primary);
        var marker = Guid.NewGuid().ToString("N");
        await using (var db = PrimaryDataSource(primary.Port))
        {
            await using (var create = db.CreateCommand("CREATE TABLE IF NOT EXISTS restart_marker(v text)"))
            {
                await create.ExecuteNonQueryAsync();
            }
            await using var insert = db.CreateCommand("INSERT INTO restart_marker VALUES ($1)");
            insert.Parameters.AddWithValue(marker);
            await insert.ExecuteNonQueryAsync();
        }

        await fixture.RestartAsync();
        var after = await fixture.WaitForHealthyFleetAsync(TimeSpan.FromMinutes(2));

        var oltpAfter = after.Tiers.Single(t => t.Name == "oltp");
        Assert.Equal(oltp.Term, oltpAfter.Term);
        Assert.Equal(oltp.Primary, oltpAfter.Primary);
        Assert.True(oltpAfter.Version >= oltp.Version, $"version {oltpAfter.Version} after restart, {oltp.Version} before: versions never go back");
        foreach (var tier in before.Tiers)
        {
            var again = after.Tiers.Single(t => t.Name == tier.Name);
            Assert.Equal(tier.Replicas.Select(r => (r.Name, r.Port)), again.Replicas.Select(r => (r.Name, r.Port)));
        }
        await using (var db = PrimaryDataSource(primary.Port))
        {
            await using var cmd = db.CreateCommand("SELECT count(*) FROM restart_marker WHERE v = $1");
            cmd.Parameters.AddWithValue(marker);
            Assert.Equal(1L, (long)(await cmd.ExecuteScalarAsync())!);
        }
    }

    private NpgsqlDataSource PrimaryDataSource(int port)
    {
        var csb = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "postgres",
            Database = "postgres",
            Password = File.ReadAllText(Path.Combine(fixture.DataDirectory, "secrets", "oltp.superuser")).Trim(),
            Pooling = false,
            Timeout = 5,
        };
        return NpgsqlDataSource.Create(csb.ConnectionString);
    }
}
