using ControlPlane.Grains.Health;
using ControlPlane.Grains.Hosts;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Hosts;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace ControlPlane.Tests.Hosts;

public sealed class InstanceDriverSeamTests
{
    private static ReplicaSpec Spec(string? hostName, string? dataDirectory = "/data/oltp/oltp-a/data") =>
        new("local", "oltp", "oltp-a", "127.0.0.2", 5433, "postgres", "postgres", "/secrets/pw", dataDirectory, "/secrets/repl", hostName);

    private static readonly ReplicaEndpoint Primary = new("oltp", "oltp-b", "127.0.0.3", 5433, "postgres", "postgres", "/secrets/pw", null);

    [Fact]
    public void A_replica_with_no_host_is_driven_on_whichever_silo_runs_it()
    {
        Assert.True(InstanceDrivers.OnHost(Spec(hostName: null), localHost: ""));
        Assert.True(InstanceDrivers.OnHost(Spec(hostName: null), localHost: "host-b"));
    }

    [Fact]
    public void A_replica_is_driven_on_its_host_only_by_that_hosts_silo()
    {
        Assert.True(InstanceDrivers.OnHost(Spec("host-a"), localHost: "host-a"));
        Assert.False(InstanceDrivers.OnHost(Spec("host-a"), localHost: "host-b"));
        Assert.False(InstanceDrivers.OnHost(Spec("host-a"), localHost: ""));
    }

    [Fact]
    public void A_replica_without_a_data_directory_is_reached_over_sql_only_even_on_its_host()
    {
        Assert.False(InstanceDrivers.OnHost(Spec("host-a", dataDirectory: null), localHost: "host-a"));
        Assert.False(InstanceDrivers.OnHost(Spec(null, dataDirectory: null), localHost: ""));
    }

    [Fact]
    public void The_silo_of_another_host_gets_the_sql_only_driver_naming_the_replicas_host()
    {
        var driver = InstanceDrivers.For(Spec("host-a"), new HostIdentity { Name = "host-b" }, NullLogger.Instance);
        var sql = Assert.IsType<SqlOnlyInstanceDriver>(driver);
        Assert.False(sql.OnHost);
        Assert.Equal("host-a", sql.Host);
    }

    [Fact]
    public void The_hosts_own_silo_gets_the_host_local_driver_listening_on_the_hosts_address()
    {
        var driver = InstanceDrivers.For(Spec("host-a"), new HostIdentity { Name = "host-a", Address = "127.0.0.2" }, NullLogger.Instance);
        var local = Assert.IsType<LocalInstanceDriver>(driver);
        Assert.True(((IInstanceDriver)local).OnHost);
        Assert.Equal("127.0.0.2", local.Endpoint.Host);
    }

    [Fact]
    public async Task Every_host_needing_operation_over_sql_names_the_operation_the_replica_and_the_host()
    {
        IInstanceDriver driver = new SqlOnlyInstanceDriver("oltp", "oltp-a", "host-a");
        using var cts = new CancellationTokenSource();
        var refusals = new[]
        {
            (await driver.StopCleanAsync(cts.Token)).NeedsHost,
            (await driver.RejoinAsync(Primary, "oltp_a", rebuild: false, saved: null, cts.Token)).NeedsHost,
            (await driver.RejoinAsync(Primary, "oltp_a", rebuild: true, saved: null, cts.Token)).NeedsHost,
            await driver.RepointAsync(Primary, "oltp_a", cts.Token),
            await driver.StartAsync(cts.Token),
            await driver.StopAsync(StopMode.Fast, cts.Token),
        };
        Assert.All(refusals, r =>
        {
            Assert.NotNull(r);
            Assert.Equal("host-a", r.Host);
            Assert.Contains("oltp/oltp-a", r.Message, StringComparison.Ordinal);
            Assert.Contains("host 'host-a'", r.Message, StringComparison.Ordinal);
        });
        Assert.Equal(refusals.Length, refusals.Select(r => r!.Operation).Distinct().Count());
        Assert.Null(driver.PostmasterAlive());
        Assert.Null(driver.PostmasterPid());
    }

    [Fact]
    public void The_gateway_error_carries_the_operation_and_the_host()
    {
        var ex = new NeedsHostSiloException(new NeedsHostSilo("rejoining it as a standby", "oltp", "oltp-a", "host-a"));
        Assert.Equal("rejoining it as a standby", ex.Operation);
        Assert.Equal("host-a", ex.Host);
        Assert.StartsWith("rejoining it as a standby of replica oltp/oltp-a needs the silo of host 'host-a'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Replica_hosts_map_grain_keys_to_the_configured_host()
    {
        var hosts = new ReplicaHosts([Spec("host-a"), Spec(null) with { Name = "oltp-z" }]);
        Assert.Equal("host-a", hosts.HostOf("local/oltp/oltp-a"));
        Assert.Null(hosts.HostOf("local/oltp/oltp-z"));
        Assert.Null(hosts.HostOf("local/oltp/unknown"));
    }

    [Theory]
    [InlineData("", "", true)]
    [InlineData("host-a", "127.0.0.2", true)]
    [InlineData("Host_A", "", false)]
    [InlineData("host-a", "not-an-ip", false)]
    [InlineData("", "127.0.0.2", false)]
    public void Host_identity_is_validated_naming_the_key(string name, string address, bool valid)
    {
        var errors = new HostIdentity { Name = name, Address = address }.Validate().ToList();
        Assert.Equal(valid, errors.Count == 0);
        Assert.All(errors, e => Assert.StartsWith("ControlPlane:Host:", e, StringComparison.Ordinal));
    }
}
