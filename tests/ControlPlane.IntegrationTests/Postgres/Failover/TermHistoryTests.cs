using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Postgres.Failover;

/// <summary>The term carried by the instances themselves, on a real primary and its streaming standby.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class TermHistoryTests(PostgresPairFixture pair)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task The_probe_answers_without_a_term_where_the_table_does_not_exist_or_is_empty()
    {
        const string Database = "termless";
        await using (var connection = await AdminOpenAsync(pair.Primary.Endpoint))
        {
            await using var exists = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", connection)
            {
                Parameters = { new() { Value = Database } },
            };
            if (!(bool)(await exists.ExecuteScalarAsync())!)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE {Database}", connection);
                await create.ExecuteNonQueryAsync();
            }
        }
        await using var probe = new ReplicaProbe(pair.Primary.Endpoint with { Database = Database }, ProbeTimeout);
        var result = await probe.ProbeAsync(CancellationToken.None);
        Assert.True(result.Reachable, result.Error);
        Assert.Null(result.Term);

        // Created at provisioning, the table is empty until the first term is recorded: still no term, no failure.
        await TermHistory.EnsureAsync(pair.Primary.Endpoint with { Database = Database }, CancellationToken.None);
        var empty = await probe.ProbeAsync(CancellationToken.None);
        Assert.True(empty.Reachable, empty.Error);
        Assert.Null(empty.Term);
    }

    [Fact]
    public async Task A_recorded_term_reaches_the_standby_and_a_lower_or_duplicate_one_never_replaces_it()
    {
        var term = Random.Shared.NextInt64(1_000, 1_000_000_000);
        var carried = await TermHistory.RecordAsync(pair.Primary.Endpoint, term, pair.Primary.Name, "test", CancellationToken.None);
        Assert.Equal(new TermMark(term, pair.Primary.Name), carried);

        await using var primaryProbe = new ReplicaProbe(pair.Primary.Endpoint, ProbeTimeout);
        await using var standbyProbe = new ReplicaProbe(pair.Standby.Endpoint, ProbeTimeout);
        Assert.Equal(new TermMark(term, pair.Primary.Name), (await primaryProbe.ProbeAsync(CancellationToken.None)).Term);
        var replicated = await Poll.UntilAsync(() => standbyProbe.ProbeAsync(CancellationToken.None), r => r.Term?.Term >= term, "the term on the standby");
        Assert.Equal(new TermMark(term, pair.Primary.Name), replicated.Term);

        // A stale decider gets the higher term back, and the same term is never given to another primary.
        Assert.Equal(term, (await TermHistory.RecordAsync(pair.Primary.Endpoint, term - 1, "someone-else", "test", CancellationToken.None)).Term);
        Assert.Equal(new TermMark(term, pair.Primary.Name),
            await TermHistory.RecordAsync(pair.Primary.Endpoint, term, "someone-else", "test", CancellationToken.None));
        Assert.Equal(new TermMark(term, pair.Primary.Name), await TermHistory.ReadAsync(pair.Primary.Endpoint, CancellationToken.None));
    }

    private static async Task<NpgsqlConnection> AdminOpenAsync(ReplicaEndpoint endpoint)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = endpoint.Host, Port = endpoint.Port, Database = endpoint.Database, Username = endpoint.User,
            Password = SecretFile.Read(endpoint.PasswordFile), Pooling = false, Timeout = 10,
        }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }
}
