using System.Net;
using System.Net.Sockets;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Xunit;

namespace ControlPlane.IntegrationTests.Postgres;

[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class LocalInstanceDriverTests(PostgresPairFixture pair)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_sigkilled_standby_restarts_over_its_stale_pid_file_and_streams_again()
    {
        await using var probe = new ReplicaProbe(pair.Standby.Endpoint, ProbeTimeout);
        await pair.Standby.KillAsync(InstanceSignal.Kill, CancellationToken.None);
        await Poll.UntilAsync(() => probe.ProbeAsync(CancellationToken.None), r => !r.Reachable, "the killed standby to be unreachable");
        Assert.True(File.Exists(Path.Combine(pair.Standby.DataDirectory, "postmaster.pid")));
        Assert.False(await pair.Standby.IsRunningAsync(CancellationToken.None));

        await pair.Standby.StartAsync(CancellationToken.None);

        await Poll.UntilAsync(() => probe.ProbeAsync(CancellationToken.None),
            r => r.Reachable && r.WalReceiverStatus == "streaming", "the restarted standby to stream");
    }

    [Fact]
    public async Task A_frozen_instance_probes_unreachable_within_the_deadline_and_recovers_when_thawed()
    {
        await using var probe = new ReplicaProbe(pair.Standby.Endpoint, TimeSpan.FromMilliseconds(700));
        await pair.Standby.KillAsync(InstanceSignal.Stop, CancellationToken.None);
        try
        {
            var frozen = await probe.ProbeAsync(CancellationToken.None);
            Assert.False(frozen.Reachable);
            Assert.Contains("timed out", frozen.Error, StringComparison.Ordinal);
        }
        finally
        {
            await pair.Standby.KillAsync(InstanceSignal.Continue, CancellationToken.None);
        }
        await Poll.UntilAsync(() => probe.ProbeAsync(CancellationToken.None), r => r.Reachable, "the thawed standby to answer");
    }

    [Fact]
    public async Task Starting_a_running_instance_leaves_it_running()
    {
        var pid = pair.Primary.PostmasterPid();
        await pair.Primary.StartAsync(CancellationToken.None);
        Assert.Equal(pid, pair.Primary.PostmasterPid());
        Assert.Equal(pair.Primary.Port, pair.Primary.RunningPort());
    }

    [Fact]
    public async Task A_port_taken_between_provisioning_and_the_first_start_moves_the_new_instance_to_a_free_one()
    {
        var driver = pair.Driver("test-port");
        var picked = await driver.AdoptPortAsync(null, CancellationToken.None);
        // Another process takes the port before the server binds it (as an outgoing connection's ephemeral port can).
        using var thief = new TcpListener(IPAddress.Loopback, picked);
        thief.Start();
        try
        {
            await driver.InitPrimaryAsync(CancellationToken.None);
            Assert.NotEqual(picked, driver.Port);
            Assert.Equal(driver.Port, driver.RunningPort());
            await using var probe = new ReplicaProbe(driver.Endpoint, ProbeTimeout);
            Assert.True((await probe.ProbeAsync(CancellationToken.None)).Reachable);
        }
        finally
        {
            await driver.StopAsync(StopMode.Immediate, CancellationToken.None);
        }
    }
}
