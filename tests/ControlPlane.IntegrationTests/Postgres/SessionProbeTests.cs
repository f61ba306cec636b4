using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Health;
using ControlPlane.Postgres.Instances;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Postgres;

/// <summary>The fresh-connection check against a real server: each outcome caused for real.</summary>
[Collection(PostgresCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class SessionProbeTests(PostgresPairFixture pair)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task A_live_instance_opens_a_new_session()
    {
        await using var probe = new SessionProbe(pair.Primary.Endpoint, Deadline);
        var check = await probe.CheckAsync(CancellationToken.None);
        Assert.Equal(SessionOutcome.Opened, check.Outcome);
        Assert.Null(check.Error);
    }

    [Fact]
    public async Task A_port_where_nothing_listens_is_refused()
    {
        await using var probe = new SessionProbe(pair.Primary.Endpoint with { Port = FreePort.Pick() }, Deadline);
        var check = await probe.CheckAsync(CancellationToken.None);
        Assert.Equal(SessionOutcome.Refused, check.Outcome);
        Assert.True(check.CannotOpenSession);
    }

    [Fact]
    public async Task A_frozen_postmaster_times_out_after_the_tcp_connect_while_an_existing_session_still_works()
    {
        var endpoint = pair.Primary.Endpoint;
        await using var existing = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = endpoint.Host, Port = endpoint.Port, Database = endpoint.Database, Username = endpoint.User,
            Password = SecretFile.Read(endpoint.PasswordFile), Pooling = false, CommandTimeout = 5,
        }.ConnectionString);
        await existing.OpenAsync();
        await using var probe = new SessionProbe(endpoint, TimeSpan.FromMilliseconds(500));
        var postmaster = pair.Primary.PostmasterPid() ?? throw new InvalidOperationException("no postmaster.pid");
        InstanceProcesses.Signal(postmaster, InstanceSignal.Stop);
        try
        {
            var check = await probe.CheckAsync(CancellationToken.None);
            Assert.Equal(SessionOutcome.SessionTimedOut, check.Outcome);
            Assert.True(check.CannotOpenSession);
            await using var command = new NpgsqlCommand("SELECT 1", existing);
            Assert.Equal(1, (int)(await command.ExecuteScalarAsync())!);
        }
        finally
        {
            InstanceProcesses.Signal(postmaster, InstanceSignal.Continue);
        }
        await using var after = new SessionProbe(endpoint, Deadline);
        Assert.Equal(SessionOutcome.Opened, (await Poll.UntilAsync(() => after.CheckAsync(CancellationToken.None),
            c => c.Outcome == SessionOutcome.Opened, "a new session after the thaw")).Outcome);
    }

    [Fact]
    public async Task A_wrong_password_is_an_authentication_failure_not_a_dead_server()
    {
        var wrong = Path.Combine(Path.GetTempPath(), "cp-session-" + Guid.NewGuid().ToString("N")[..8]);
        await File.WriteAllTextAsync(wrong, "not-the-password");
        try
        {
            await using var probe = new SessionProbe(pair.Primary.Endpoint with { PasswordFile = wrong }, Deadline);
            var check = await probe.CheckAsync(CancellationToken.None);
            Assert.Equal(SessionOutcome.AuthenticationFailed, check.Outcome);
            Assert.False(check.CannotOpenSession);
            Assert.DoesNotContain("not-the-password", check.Error ?? "", StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(wrong);
        }
    }
}
