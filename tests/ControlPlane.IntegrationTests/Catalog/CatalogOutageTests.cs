using System.Diagnostics;
using ControlPlane.Cli;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Catalog;

/// <summary>
/// The embedded catalog killed (SIGKILL) and frozen (SIGSTOP) under the real silo: supervision restarts a dead
/// catalog; while a frozen one is unreachable the gateway answers queries, watches and known tokens from memory and
/// refuses commands with UNAVAILABLE, health tells a load balancer, and everything recovers after SIGCONT.
/// </summary>
[Collection(CatalogOutageCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class CatalogOutageTests(CatalogOutageFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_killed_catalog_is_restarted_and_the_gateway_accepts_commands_again()
    {
        var before = await fixture.CatalogStatus().GetCatalogStatusAsync(new GetCatalogStatusRequest());
        var oldPid = fixture.Catalog.PostmasterPid();
        var killed = Stopwatch.StartNew();
        await fixture.Catalog.KillAsync(InstanceSignal.Kill, CancellationToken.None);

        var after = await fixture.WaitForCatalogAsync(s => s.Restarts > before.Restarts && s.Reachable, Generous);
        output.WriteLine($"catalog restarted and reachable {killed.Elapsed.TotalSeconds:0.0} s after SIGKILL (measured, not asserted)");
        Assert.NotEqual(oldPid, fixture.Catalog.PostmasterPid());
        Assert.True(fixture.Catalog.PostmasterExists());
        Assert.True(after.Embedded);

        var created = await PollAsync(() => Security(fixture.AdminToken).CreateTokenAsync(
            new CreateTokenRequest { Name = "after-restart", Role = Role.Viewer }).ResponseAsync, Generous);
        output.WriteLine($"a command (CreateToken) answered OK {killed.Elapsed.TotalSeconds:0.0} s after SIGKILL");
        Assert.StartsWith("cpt_", created.Token, StringComparison.Ordinal);
    }

    [Fact]
    public async Task While_the_catalog_is_frozen_queries_watches_and_known_tokens_answer_and_commands_are_refused()
    {
        var viewer = await CreateTokenAsync("outage-viewer", Role.Viewer);
        var unseen = await CreateTokenAsync("outage-unseen", Role.Viewer);
        await Security(viewer).WhoAmIAsync(new WhoAmIRequest()); // this silo has now verified the viewer token
        var viewerFile = Path.Combine(fixture.Root, "viewer.token");
        await File.WriteAllTextAsync(viewerFile, viewer);

        var restartsBefore = (await fixture.CatalogStatus().GetCatalogStatusAsync(new GetCatalogStatusRequest())).Restarts;
        var frozenPid = fixture.Catalog.PostmasterPid();
        await fixture.Catalog.KillAsync(InstanceSignal.Stop, CancellationToken.None);
        try
        {
            var down = await fixture.WaitForCatalogAsync(s => !s.Reachable, Generous);
            Assert.NotEmpty(down.LastError);
            Assert.NotNull(down.Since);
            Assert.DoesNotContain("password", down.LastError, StringComparison.OrdinalIgnoreCase);

            // cpctl status with a viewer token: the tiers, and the alert line.
            var (exit, stdout, stderr) = await CpctlAsync("status", "--token-file", viewerFile);
            Assert.True(exit == 0, $"cpctl status exited {exit}: {stderr}");
            Assert.Contains("ALERT catalog unreachable since", stdout, StringComparison.Ordinal);
            Assert.Contains(CatalogOutageFixture.TierName, stdout, StringComparison.Ordinal);

            // A command: UNAVAILABLE with the message, through cpctl and over gRPC.
            var (cmdExit, _, cmdErr) = await CpctlAsync("token", "create", "during-outage", "--role", "viewer", "--token-file", fixture.AdminTokenFile);
            Assert.Equal(3, cmdExit);
            Assert.Contains("the catalog is unreachable since", cmdErr, StringComparison.Ordinal);
            var refused = await Assert.ThrowsAsync<RpcException>(() => new FailoverService.FailoverServiceClient(fixture.Invoker(fixture.AdminToken))
                .SwitchoverAsync(new SwitchoverRequest { Tier = CatalogOutageFixture.TierName }).ResponseAsync);
            Assert.Equal(StatusCode.Unavailable, refused.StatusCode);
            Assert.Contains("commands are refused until it returns; queries and watches still answer", refused.Status.Detail, StringComparison.Ordinal);

            // The catalog's own hardening audit cannot read a frozen catalog: UNAVAILABLE, never the catalog's password.
            var audit = await Assert.ThrowsAsync<RpcException>(() => new HardeningService.HardeningServiceClient(fixture.Invoker(fixture.AdminToken))
                .AuditCatalogSecurityAsync(new AuditCatalogSecurityRequest()).ResponseAsync);
            Assert.Equal(StatusCode.Unavailable, audit.StatusCode);
            Assert.Contains("catalog", audit.Status.Detail, StringComparison.Ordinal);
            Assert.DoesNotContain("password", audit.Status.Detail, StringComparison.OrdinalIgnoreCase);

            // A token this silo never verified cannot be checked: UNAVAILABLE, not UNAUTHENTICATED.
            var unverifiable = await Assert.ThrowsAsync<RpcException>(() => Security(unseen).WhoAmIAsync(new WhoAmIRequest()).ResponseAsync);
            Assert.Equal(StatusCode.Unavailable, unverifiable.StatusCode);

            // gRPC health: the server and the query services serve, the command services do not.
            var health = new Health.HealthClient(fixture.Channel);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "" })).Status);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest { Service = "controlplane.v1.FleetService" })).Status);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest { Service = "controlplane.v1.FailoverService" })).Status);
            Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest { Service = "controlplane.v1.commands" })).Status);

            // A new watch opened during the outage gets its snapshot.
            using var watchCancel = new CancellationTokenSource(Generous);
            using var watch = new FleetService.FleetServiceClient(fixture.Invoker(viewer))
                .WatchTier(new WatchTierRequest { Tier = CatalogOutageFixture.TierName }, cancellationToken: watchCancel.Token);
            Assert.True(await watch.ResponseStream.MoveNext(watchCancel.Token));
            Assert.Equal(CatalogOutageFixture.TierName, watch.ResponseStream.Current.TierName);

            // And through cpctl, as an SRE would: `cpctl watch oltp --json` prints the snapshot first.
            using (var cpctlWatch = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
            {
                var watchOut = new StringWriter();
                var watchExit = await CpctlApp.RunAsync(
                    ["watch", CatalogOutageFixture.TierName, "--json", "--endpoint", fixture.Endpoint, "--token-file", viewerFile],
                    watchOut, new StringWriter(), cpctlWatch.Token);
                Assert.Equal(0, watchExit);
                var first = watchOut.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)[0];
                var snapshot = Google.Protobuf.JsonParser.Default.Parse<TierEvent>(first);
                Assert.Equal(TierEventKind.Snapshot, snapshot.Kind);
                Assert.Equal(CatalogOutageFixture.TierName, snapshot.TierName);
            }

            // The catalog's status itself answers, with the outage's start.
            var (statusExit, statusOut, _) = await CpctlAsync("catalog", "status", "--token-file", viewerFile);
            Assert.Equal(0, statusExit);
            Assert.Contains("UNREACHABLE since", statusOut, StringComparison.Ordinal);

            // A frozen postmaster still exists: the supervisor never restarted (nor killed) it.
            Assert.Equal(restartsBefore, (await fixture.CatalogStatus().GetCatalogStatusAsync(new GetCatalogStatusRequest())).Restarts);
            Assert.Equal(frozenPid, fixture.Catalog.PostmasterPid());
        }
        finally
        {
            await fixture.ThawAsync();
        }

        var created = await PollAsync(() => Security(fixture.AdminToken).CreateTokenAsync(
            new CreateTokenRequest { Name = "after-thaw", Role = Role.Viewer }).ResponseAsync, Generous);
        Assert.StartsWith("cpt_", created.Token, StringComparison.Ordinal);
        var healthAfter = new Health.HealthClient(fixture.Channel);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving,
            (await healthAfter.CheckAsync(new HealthCheckRequest { Service = "controlplane.v1.FailoverService" })).Status);
        var me = await PollAsync(() => Security(unseen).WhoAmIAsync(new WhoAmIRequest()).ResponseAsync, Generous);
        Assert.StartsWith("outage-unseen", me.Principal, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_token_revoked_in_the_catalog_is_refused_on_the_next_call_within_a_second()
    {
        var token = await CreateTokenAsync("revoked-by-sql", Role.Viewer);
        var id = token.Split('_')[1];
        await Security(token).WhoAmIAsync(new WhoAmIRequest()); // cached now
        await fixture.WaitForCatalogAsync(s => s.TokenListenerConnected, Generous);

        // Revoked behind the silo's back (as another silo would): only the catalog's NOTIFY can tell this one.
        await using (var catalog = NpgsqlDataSource.Create(fixture.Silo.Instances.CatalogConnectionString))
        await using (var command = catalog.CreateCommand("UPDATE controlplane_tokens SET revoked_at = now(), revoked_by = 'test' WHERE id = $1"))
        {
            command.Parameters.AddWithValue(id);
            Assert.Equal(1, await command.ExecuteNonQueryAsync());
        }
        var revoked = Stopwatch.StartNew();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        RpcException? refusal = null;
        while (refusal is null && DateTime.UtcNow < deadline)
        {
            try
            {
                await Security(token).WhoAmIAsync(new WhoAmIRequest());
                await Task.Delay(50);
            }
            catch (RpcException ex)
            {
                refusal = ex;
            }
        }
        output.WriteLine($"refused {revoked.Elapsed.TotalMilliseconds:0} ms after the revocation committed (measured, not asserted)");
        Assert.NotNull(refusal);
        Assert.Equal(StatusCode.Unauthenticated, refusal.StatusCode);
        Assert.Contains("was revoked", refusal.Status.Detail, StringComparison.Ordinal);
    }

    private SecurityService.SecurityServiceClient Security(string token) => new(fixture.Invoker(token));

    private async Task<string> CreateTokenAsync(string name, Role role)
    {
        var created = await Security(fixture.AdminToken).CreateTokenAsync(
            new CreateTokenRequest { Name = $"{name}-{Guid.NewGuid().ToString("N")[..6]}", Role = role });
        return created.Token;
    }

    private async Task<(int Exit, string Out, string Err)> CpctlAsync(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await CpctlApp.RunAsync([.. args, "--endpoint", fixture.Endpoint], stdout, stderr, CancellationToken.None);
        output.WriteLine($"cpctl {string.Join(' ', args)} -> {exit}\n{stdout}{stderr}");
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static async Task<T> PollAsync<T>(Func<Task<T>> call, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }
}
