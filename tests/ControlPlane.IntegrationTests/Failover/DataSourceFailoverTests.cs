using ControlPlane.Client;
using ControlPlane.Client.Pools;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Failover;

/// <summary>
/// A service's queries through <see cref="ControlPlaneDataSource"/> resume on the new primary after the tier fails
/// over on its own: the library follows the routing stream, so the service changes nothing.
/// </summary>
[Collection(ChaosCollection.Name)]
[Trait("Category", "Chaos")]
public sealed class DataSourceFailoverTests(ChaosSiloFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan ResumeTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Queries_through_the_data_source_resume_on_the_new_primary_after_a_failover()
    {
        await fixture.Tier.ResetAsync();
        var start = await fixture.Tier.WaitConvergedAsync();
        Assert.True(TierControl.IsConverged(start), $"not converged: {start}");
        var oldPrimary = start.Replicas.Single(r => r.Name == start.Primary);

        using var client = new ControlPlaneClient(fixture.Endpoint, new ControlPlaneClientOptions { Token = fixture.Token });
        // The pool knows the tier's capacity from its first sample of the primary (every 2 s).
        for (var i = 0; i < 100 && (await client.Pools.GetPoolBudgetAsync(new GetPoolBudgetRequest { Tier = ChaosSiloFixture.TierName })).Capacity <= 0; i++)
        {
            await Task.Delay(200);
        }
        await using var source = await ControlPlaneDataSource.CreateAsync(client, new ControlPlaneDataSourceOptions
        {
            Tier = ChaosSiloFixture.TierName,
            Tenant = "acme",
            Service = "failover-follower",
            Requested = 4,
            Connection = new NpgsqlConnectionStringBuilder
            {
                Username = "postgres",
                Password = File.ReadAllText(fixture.PasswordFile).Trim(),
                Database = "postgres",
                Timeout = 3,
                CommandTimeout = 5,
            },
        });
        Assert.Equal(oldPrimary.Port, (await ServerAsync(source)).Port);

        await fixture.Driver(start.Primary).KillAsync(InstanceSignal.Kill, CancellationToken.None);

        var deadline = DateTime.UtcNow + ResumeTimeout;
        (int Port, bool InRecovery)? resumed = null;
        var failures = 0;
        while (resumed is null && DateTime.UtcNow < deadline)
        {
            try
            {
                var server = await ServerAsync(source);
                if (server.Port != oldPrimary.Port && !server.InRecovery) resumed = server;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                // The old primary is gone and the routing has not moved yet: the service would retry the same way.
                failures++;
            }
            if (resumed is null) await Task.Delay(100);
        }
        output.WriteLine($"queries failed {failures} time(s) before resuming on port {resumed?.Port}");
        Assert.NotNull(resumed);

        var after = await fixture.Tier.GetAsync();
        Assert.True(after.Term > start.Term, $"term {after.Term} after {start.Term}");
        Assert.Equal(after.Replicas.Single(r => r.Name == after.Primary).Port, resumed!.Value.Port);
        var end = await fixture.Tier.WaitConvergedAsync();
        Assert.True(TierControl.IsConverged(end), $"not converged: {end}");
    }

    private static async Task<(int Port, bool InRecovery)> ServerAsync(ControlPlaneDataSource source)
    {
        await using var connection = await source.OpenConnectionAsync();
        await using var command = new NpgsqlCommand("SELECT inet_server_port(), pg_is_in_recovery()", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt32(0), reader.GetBoolean(1));
    }
}
