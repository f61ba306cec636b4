using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Postgres;

[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class ReplicaProbeTests(PostgresPairFixture pair)
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Probe_reports_primary_role_and_a_current_lsn()
    {
        await using var probe = new ReplicaProbe(pair.Primary.Endpoint, ProbeTimeout);
        var result = await probe.ProbeAsync(CancellationToken.None);

        Assert.True(result.Reachable, result.Error);
        Assert.False(result.InRecovery);
        Assert.NotNull(result.CurrentLsn);
        Assert.True(result.Timeline >= 1);
        Assert.Equal(100, result.MaxConnections);
        Assert.StartsWith("15", result.ServerVersion, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Probe_reports_the_standby_streaming_with_a_received_lsn()
    {
        await using var probe = new ReplicaProbe(pair.Standby.Endpoint, ProbeTimeout);
        var result = await StreamingAsync(probe);

        Assert.True(result.InRecovery);
        Assert.Null(result.CurrentLsn);
        Assert.NotNull(result.ReceiveLsn);
        Assert.Equal($"127.0.0.1:{pair.Primary.Port}", result.WalReceiverUpstream);
    }

    [Fact]
    public async Task Primary_probe_lists_the_standby_in_its_replication_rows()
    {
        await using var probe = new ReplicaProbe(pair.Primary.Endpoint, ProbeTimeout);
        var result = await Poll.UntilAsync(() => probe.ProbeAsync(CancellationToken.None),
            r => r.Replication.Any(p => p.ApplicationName == pair.Standby.Name && p.State == "streaming"), "standby in pg_stat_replication");

        Assert.Equal("async", result.Replication.Single(p => p.ApplicationName == pair.Standby.Name).SyncState);
    }

    [Fact]
    public async Task Standby_replay_lsn_catches_up_after_a_write_on_the_primary()
    {
        await using var primaryProbe = new ReplicaProbe(pair.Primary.Endpoint, ProbeTimeout);
        await using var standbyProbe = new ReplicaProbe(pair.Standby.Endpoint, ProbeTimeout);
        await StreamingAsync(standbyProbe);

        await using (var connection = await OpenAsync(pair.Primary.Endpoint))
        await using (var cmd = new NpgsqlCommand(
            "CREATE TABLE IF NOT EXISTS probe_writes (id serial PRIMARY KEY, at timestamptz DEFAULT now()); INSERT INTO probe_writes DEFAULT VALUES;",
            connection) { CommandTimeout = 10 })
        {
            await cmd.ExecuteNonQueryAsync();
        }
        var written = (await primaryProbe.ProbeAsync(CancellationToken.None)).CurrentLsn!.Value;

        var caughtUp = await Poll.UntilAsync(() => standbyProbe.ProbeAsync(CancellationToken.None),
            r => r.ReplayLsn is { } replay && replay >= written, $"standby replay to reach {written}");
        Assert.True(caughtUp.ReplayLagSeconds >= 0);
    }

    [Fact]
    public async Task Probe_connection_count_rises_when_extra_connections_are_open()
    {
        await using var probe = new ReplicaProbe(pair.Primary.Endpoint, ProbeTimeout);
        var before = await probe.ProbeAsync(CancellationToken.None);

        var extra = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < 3; i++) extra.Add(await OpenAsync(pair.Primary.Endpoint));
            var during = await probe.ProbeAsync(CancellationToken.None);
            Assert.True(during.Connections >= before.Connections + 3, $"before {before.Connections}, during {during.Connections}");
        }
        finally
        {
            foreach (var c in extra) await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_stopped_standby_probes_unreachable_and_a_restarted_one_streams_again()
    {
        await using var probe = new ReplicaProbe(pair.Standby.Endpoint, ProbeTimeout);
        await pair.Standby.StopAsync(StopMode.Fast, CancellationToken.None);
        try
        {
            var down = await probe.ProbeAsync(CancellationToken.None);
            Assert.False(down.Reachable);
            Assert.False(string.IsNullOrEmpty(down.Error));
        }
        finally
        {
            await pair.Standby.StartAsync(CancellationToken.None);
        }
        var up = await StreamingAsync(probe);
        Assert.True(up.InRecovery);
    }

    [Fact]
    public async Task A_failed_probe_with_a_wrong_password_names_no_password()
    {
        var wrongFile = Path.Combine(pair.Root, "secrets", "wrong.password");
        await SecretFile.WriteAsync(wrongFile, SecretFile.GeneratePassword(), CancellationToken.None);
        var wrong = SecretFile.Read(wrongFile);
        var right = SecretFile.Read(pair.SuperuserPasswordFile);

        await using var probe = new ReplicaProbe(pair.Primary.Endpoint with { PasswordFile = wrongFile }, ProbeTimeout);
        var result = await probe.ProbeAsync(CancellationToken.None);

        Assert.False(result.Reachable);
        Assert.Contains("28P01", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(right, result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, probe.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void Secret_files_are_readable_by_their_owner_only()
    {
        var expected = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(expected, File.GetUnixFileMode(pair.SuperuserPasswordFile));
        Assert.Equal(expected, File.GetUnixFileMode(pair.ReplicatorPasswordFile));
        Assert.Equal(expected, File.GetUnixFileMode(pair.Standby.ReplicationPassFile));
    }

    [Fact]
    public async Task A_probe_of_a_closed_port_is_unreachable_within_its_timeout()
    {
        var closed = pair.Primary.Endpoint with { Port = FreePort.Pick() };
        await using var probe = new ReplicaProbe(closed, TimeSpan.FromMilliseconds(500));
        var result = await probe.ProbeAsync(CancellationToken.None);

        Assert.False(result.Reachable);
        Assert.NotNull(result.Error);
    }

    private static Task<ProbeResult> StreamingAsync(ReplicaProbe probe) =>
        Poll.UntilAsync(() => probe.ProbeAsync(CancellationToken.None),
            r => r.Reachable && r.WalReceiverStatus == "streaming" && r.ReceiveLsn is not null, "the standby to stream");

    private static async Task<NpgsqlConnection> OpenAsync(ReplicaEndpoint endpoint)
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
