using System.Security.Cryptography;
using System.Text;
using ControlPlane.Cli;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Protos.V1;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Health.V1;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Security;

[Collection(SiloCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class TokenLifecycleTests(SiloFixture fixture)
{
    [Fact]
    public async Task Tokens_are_stored_only_as_salted_hashes()
    {
        var created = await SecurityTokens.CreateAsync(fixture, "stored-hashed", Role.Viewer);
        var secret = created.Token[(4 + 16 + 1)..];
        await using var catalog = NpgsqlDataSource.Create(fixture.Silo.Instances.CatalogConnectionString);
        await using var command = catalog.CreateCommand("SELECT row_to_json(t)::text, salt, hash FROM controlplane_tokens t WHERE id = $1");
        command.CommandTimeout = 10;
        command.Parameters.AddWithValue(created.Info.Id);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        var row = reader.GetString(0);
        Assert.DoesNotContain(secret, row, StringComparison.Ordinal);
        Assert.DoesNotContain(created.Token, row, StringComparison.Ordinal);
        var salt = reader.GetFieldValue<byte[]>(1);
        Assert.True(salt.Length >= 16);
        Assert.Equal(SHA256.HashData([.. salt, .. Encoding.ASCII.GetBytes(secret)]), reader.GetFieldValue<byte[]>(2));
    }

    [Fact]
    public async Task A_revoked_token_is_refused_on_the_very_next_call()
    {
        var created = await SecurityTokens.CreateAsync(fixture, "revoked-at-once", Role.Viewer);
        var fleet = new FleetService.FleetServiceClient(fixture.Invoker(created.Token));
        await fleet.ListTiersAsync(new ListTiersRequest());

        await SecurityTokens.Admin(fixture).RevokeTokenAsync(new RevokeTokenRequest { Id = created.Info.Id });

        var refused = await Assert.ThrowsAsync<RpcException>(() => fleet.ListTiersAsync(new ListTiersRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains("revoked", refused.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(created.Token, refused.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_token_is_refused()
    {
        var created = await SecurityTokens.CreateAsync(fixture, "expires-soon", Role.Viewer, expiresIn: TimeSpan.FromSeconds(1));
        var fleet = new FleetService.FleetServiceClient(fixture.Invoker(created.Token));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var refused = await Assert.ThrowsAsync<RpcException>(() => fleet.ListTiersAsync(new ListTiersRequest()).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains("expired", refused.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Bearer cpt_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "invalid bearer token")]
    [InlineData("Bearer not-a-token", "malformed bearer token")]
    [InlineData("Basic dXNlcjpwYXNz", "not a bearer token")]
    public async Task A_bad_credential_is_unauthenticated_with_a_message(string header, string expected)
    {
        var fleet = new FleetService.FleetServiceClient(fixture.Channel);
        var refused = await Assert.ThrowsAsync<RpcException>(() =>
            fleet.ListTiersAsync(new ListTiersRequest(), new Metadata { { "authorization", header } }).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Contains(expected, refused.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_checking_answers_without_a_token()
    {
        var health = new Health.HealthClient(fixture.Channel);
        var response = await health.CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task The_audit_table_refuses_update_and_delete()
    {
        await using var catalog = NpgsqlDataSource.Create(fixture.Silo.Instances.CatalogConnectionString);
        foreach (var sql in new[] { "UPDATE controlplane_audit SET outcome = 'ok'", "DELETE FROM controlplane_audit", "TRUNCATE controlplane_audit" })
        {
            await using var command = catalog.CreateCommand(sql);
            command.CommandTimeout = 10;
            var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
            Assert.Contains("append-only", refused.MessageText, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Watches_beyond_the_per_principal_limit_are_resource_exhausted()
    {
        var created = await SecurityTokens.CreateAsync(fixture, "many-watches", Role.Viewer);
        var fleet = new FleetService.FleetServiceClient(fixture.Invoker(created.Token));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var open = new List<AsyncServerStreamingCall<TierEvent>>();
        try
        {
            for (var i = 0; i < 16; i++)
            {
                var call = fleet.WatchFleet(new WatchFleetRequest(), cancellationToken: cts.Token);
                open.Add(call);
                Assert.True(await call.ResponseStream.MoveNext(cts.Token));
            }
            using var extra = fleet.WatchFleet(new WatchFleetRequest(), cancellationToken: cts.Token);
            var refused = await Assert.ThrowsAsync<RpcException>(() => extra.ResponseStream.MoveNext(cts.Token));
            Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
            Assert.Contains("16 open streams", refused.Status.Detail, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var call in open) call.Dispose();
        }
    }

    [Fact]
    public async Task Cpctl_creates_a_scoped_token_that_sees_only_its_scope_and_the_audit_shows_the_denial()
    {
        var (exit, output, error) = await Cpctl(["token", "create", "cli-scoped", "--role", "viewer", "--tenant", "acme", "--expires-in", "1h", "--json", "--token-file", fixture.AdminTokenFile]);
        Assert.True(exit == 0, error);
        var created = JsonParser.Default.Parse<CreateTokenResponse>(output);
        SecurityTokens.Issued.Add(created.Token);
        Assert.Equal(["acme"], created.Info.Tenants);

        (exit, output, error) = await Cpctl(["whoami", "--token", created.Token]);
        Assert.True(exit == 0, error);
        Assert.Contains("cli-scoped", output, StringComparison.Ordinal);
        Assert.Contains("tenants acme", output, StringComparison.Ordinal);

        (exit, _, error) = await Cpctl(["status", "--token", created.Token]);
        Assert.Equal(1, exit);
        Assert.Contains("PERMISSION_DENIED", error, StringComparison.Ordinal);
        Assert.DoesNotContain(created.Token, error, StringComparison.Ordinal);

        (exit, output, error) = await Cpctl(["audit", "--outcome", "denied", "--since", "1h", "--principal", $"cli-scoped (token {created.Info.Id})", "--json", "--token-file", fixture.AdminTokenFile]);
        Assert.True(exit == 0, error);
        var audit = JsonParser.Default.Parse<ListAuditEventsResponse>(output);
        Assert.Contains(audit.Events, e => e.Rpc == "controlplane.v1.FleetService/ListTiers");

        (exit, output, error) = await Cpctl(["token", "list", "--token-file", fixture.AdminTokenFile]);
        Assert.True(exit == 0, error);
        Assert.Contains(created.Info.Id, output, StringComparison.Ordinal);
        Assert.DoesNotContain(created.Token, output, StringComparison.Ordinal);
    }

    private async Task<(int Exit, string Out, string Err)> Cpctl(string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CpctlApp.RunAsync([.. args, "--endpoint", fixture.Endpoint], stdout, stderr, CancellationToken.None);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
