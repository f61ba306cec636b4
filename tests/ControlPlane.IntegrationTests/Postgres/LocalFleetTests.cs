using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Postgres;

/// <summary>Runs in the Postgres collection so it does not compete for the CPU with the pair's tests.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class LocalFleetTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("cp-fleet-").FullName;
    private LocalFleetOptions Options => new(_root) { Tiers = ["oltp"] };

    [Fact]
    public async Task Second_start_reuses_ports_and_data()
    {
        var first = await LocalFleet.ProvisionAsync(Options, NullLogger.Instance, CancellationToken.None);
        var tier = Assert.Single(first.Tiers);
        Assert.Equal("oltp-1", tier.InitialPrimary);
        Assert.Equal(["oltp-1", "oltp-2"], tier.Replicas.Select(r => r.Name));
        await ExecuteAsync(tier.Replicas[0], "CREATE TABLE survives_restart (id int)");
        await LocalFleet.StopAsync(Options, NullLogger.Instance, CancellationToken.None);

        var second = await LocalFleet.ProvisionAsync(Options, NullLogger.Instance, CancellationToken.None);

        Assert.Equal(Ports(first), Ports(second));
        Assert.Equal(1, await ExecuteAsync(second.Tiers[0].Replicas[0], "SELECT count(*) FROM pg_class WHERE relname = 'survives_restart'"));
        await using var probe = new ReplicaProbe(second.Tiers[0].Replicas[1], TimeSpan.FromSeconds(3));
        await Poll.UntilAsync(() => probe.ProbeAsync(CancellationToken.None), r => r.WalReceiverStatus == "streaming", "oltp-2 to stream");
    }

    [Fact]
    public async Task Second_start_leaves_running_instances_running()
    {
        var fleet = new LocalFleet(Options, NullLogger.Instance);
        var first = await fleet.ProvisionAsync(CancellationToken.None);
        var pid = fleet.Driver("oltp", "oltp-1").PostmasterPid();

        var again = new LocalFleet(Options, NullLogger.Instance);
        var second = await again.ProvisionAsync(CancellationToken.None);

        Assert.Equal(Ports(first), Ports(second));
        Assert.Equal(pid, again.Driver("oltp", "oltp-1").PostmasterPid());
        Assert.True(File.Exists(Path.Combine(_root, "fleet", "manifest.json")));
    }

    [Fact]
    public async Task A_taken_port_moves_the_instance_to_a_free_one()
    {
        var first = await LocalFleet.ProvisionAsync(Options, NullLogger.Instance, CancellationToken.None);
        await LocalFleet.StopAsync(Options, NullLogger.Instance, CancellationToken.None);
        var primaryPort = first.Tiers[0].Replicas[0].Port;
        using var squatter = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, primaryPort);
        squatter.Start();

        var second = await LocalFleet.ProvisionAsync(Options, NullLogger.Instance, CancellationToken.None);
        squatter.Stop();

        var primary = second.Tiers[0].Replicas[0];
        Assert.NotEqual(primaryPort, primary.Port);
        await using var probe = new ReplicaProbe(second.Tiers[0].Replicas[1], TimeSpan.FromSeconds(3));
        var streaming = await Poll.UntilAsync(() => probe.ProbeAsync(CancellationToken.None),
            r => r.WalReceiverStatus == "streaming", "oltp-2 to follow the moved primary");
        Assert.Equal($"127.0.0.1:{primary.Port}", streaming.WalReceiverUpstream);
    }

    [Fact]
    public async Task A_promoted_standby_reports_primary_role_on_the_next_timeline()
    {
        var fleet = new LocalFleet(Options, NullLogger.Instance);
        await fleet.ProvisionAsync(CancellationToken.None);
        var standby = fleet.Driver("oltp", "oltp-2");

        await standby.PromoteAsync(CancellationToken.None);

        Assert.False(standby.IsStandby);
        await using var probe = new ReplicaProbe(standby.Endpoint, TimeSpan.FromSeconds(3));
        var result = await probe.ProbeAsync(CancellationToken.None);
        Assert.True(result.Reachable, result.Error);
        Assert.False(result.InRecovery);
        Assert.Equal(2, result.Timeline);
        Assert.NotNull(result.CurrentLsn);
    }

    [Fact]
    public async Task An_old_primary_whose_rejoin_was_interrupted_is_rewound_into_a_standby_at_the_next_start_not_started_as_a_primary()
    {
        // A failover: oltp-2 promoted while the old primary oltp-1 still runs; then everything stops, and oltp-1 is
        // left as a silo killed in the middle of its rejoin leaves it: no standby.signal, the marker in place. The
        // manifest still remembers oltp-1 as the primary.
        var fleet = new LocalFleet(Options, NullLogger.Instance);
        await fleet.ProvisionAsync(CancellationToken.None);
        await fleet.Driver("oltp", "oltp-2").PromoteAsync(CancellationToken.None);
        await LocalFleet.StopAsync(Options, NullLogger.Instance, CancellationToken.None);
        var old = fleet.Driver("oltp", "oltp-1");
        var marker = Path.Combine(old.InstanceDirectory, LocalInstanceDriver.RejoinMarkerName);
        await File.WriteAllTextAsync(marker, "rejoining oltp/oltp-1 as a standby of oltp-2 (test)");
        Assert.False(old.IsStandby);

        // Started on its own, it refuses to run as a primary.
        var refused = await Assert.ThrowsAsync<RejoinInterruptedException>(() => old.StartAsync(CancellationToken.None));
        Assert.Contains("oltp/oltp-1 was being rejoined as a standby and the rejoin did not finish", refused.Message, StringComparison.Ordinal);

        var again = new LocalFleet(Options, NullLogger.Instance);
        var topology = await again.ProvisionAsync(CancellationToken.None);

        Assert.Equal("oltp-2", topology.Tiers[0].InitialPrimary);
        Assert.True(again.Driver("oltp", "oltp-1").IsStandby);
        Assert.False(File.Exists(marker));
        var primary = topology.Tiers[0].Replicas.Single(r => r.Name == "oltp-2");
        await using var probe = new ReplicaProbe(topology.Tiers[0].Replicas.Single(r => r.Name == "oltp-1"), TimeSpan.FromSeconds(3));
        var streaming = await Poll.UntilAsync(() => probe.ProbeAsync(CancellationToken.None),
            r => r.WalReceiverStatus == "streaming", "the rejoined oltp-1 to stream from oltp-2");
        Assert.True(streaming.InRecovery);
        Assert.Equal($"127.0.0.1:{primary.Port}", streaming.WalReceiverUpstream);
        await using var primaryProbe = new ReplicaProbe(primary, TimeSpan.FromSeconds(3));
        Assert.False((await primaryProbe.ProbeAsync(CancellationToken.None)).InRecovery);
    }

    [Fact]
    public async Task Catalog_is_reused_with_its_port_and_database()
    {
        var first = await CatalogInstance.EnsureAsync(_root, NullLogger.Instance, CancellationToken.None);
        await first.StopAsync(CancellationToken.None);
        var second = await CatalogInstance.EnsureAsync(_root, NullLogger.Instance, CancellationToken.None);
        try
        {
            Assert.Equal(first.Driver.Port, second.Driver.Port);
            await using var connection = new NpgsqlConnection(second.ConnectionString);
            await connection.OpenAsync();
            Assert.Equal(CatalogInstance.DatabaseName, connection.Database);
            Assert.DoesNotContain(SecretFile.Read(second.Endpoint.PasswordFile), second.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            await second.StopAsync(CancellationToken.None);
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        try { await LocalFleet.StopAsync(Options, NullLogger.Instance, CancellationToken.None); }
        catch (AggregateException) { }
        TestDirectory.DeleteQuietly(_root);
    }

    private static int[] Ports(FleetTopology topology) => topology.Tiers.SelectMany(t => t.Replicas).Select(r => r.Port).ToArray();

    private static async Task<long> ExecuteAsync(ReplicaEndpoint endpoint, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = endpoint.Host, Port = endpoint.Port, Database = endpoint.Database, Username = endpoint.User,
            Password = SecretFile.Read(endpoint.PasswordFile), Pooling = false, Timeout = 10,
        }.ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection) { CommandTimeout = 10 };
        return await cmd.ExecuteScalarAsync() is long n ? n : 0;
    }
}
