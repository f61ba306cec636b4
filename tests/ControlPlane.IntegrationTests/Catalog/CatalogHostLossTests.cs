using System.Diagnostics;
using ControlPlane.IntegrationTests.Failover;
using ControlPlane.IntegrationTests.Support;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Catalog;

/// <summary>
/// Three silos with an HA catalog (docs/catalog.md, "HA catalog"): the first runs the catalog primary and a one-tier
/// fleet, the second joins it with <c>--catalog-standby</c>, the third joins it. The first's host is lost (its silo and
/// the catalog primary SIGKILLed together); the two others agree, the standby is promoted, commands work again, and
/// the old primary rejoins as a standby when its host's silo starts again.
/// </summary>
[Trait("Category", "Postgres")]
public sealed class CatalogHostLossTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Losing_the_catalog_primarys_host_promotes_the_standby_and_the_old_primary_rejoins_as_its_standby()
    {
        await using var silos = new OneTierSilos("cp-hacat-", "oltp");
        LocalInstanceDriver? standby = null;
        SiloChild? second = null;
        try
        {
            var first = silos.Launch();
            var admin = await silos.ConnectAsync(first);
            await first.WaitUntilAsync(async () => (await new FleetService.FleetServiceClient(admin).ListTiersAsync(new ListTiersRequest())).Tiers.Count > 0);
            second = silos.LaunchJoined("--catalog-standby");
            var secondAdmin = await silos.ConnectAsync(second);
            await second.WaitUntilAsync(async () => (await new CatalogService.CatalogServiceClient(secondAdmin).GetCatalogStatusAsync(new GetCatalogStatusRequest())).Reachable);
            var manifestPath = Path.Combine(silos.DataDirectory, CatalogInstance.ManifestFile);
            var member = (await CatalogManifest.ReadAsync(manifestPath, CancellationToken.None))!.Standbys!.Single();
            standby = new LocalInstanceDriver(new LocalInstanceOptions("catalog", member.Name, member.DataDirectory, member.Port,
                Path.Combine(silos.DataDirectory, "secrets", "catalog.superuser"), null), NullLogger.Instance);
            var third = silos.LaunchJoined();
            var thirdAdmin = await silos.ConnectAsync(third);
            var security = new SecurityService.SecurityServiceClient(thirdAdmin);
            await third.WaitUntilAsync(async () => (await security.CreateTokenAsync(NewToken("before"))).Token.Length > 0);

            // Only a synchronous, caught-up standby is promoted (docs/catalog.md, "When the standby is lost"): a loaded
            // machine can degrade the replication for a moment, so start from a standby that holds every write.
            await third.WaitUntilAsync(async () => (await CatalogManifest.ReadAsync(manifestPath, CancellationToken.None))!.SynchronousDegradedSince is null);
            // The host of the catalog primary is lost: its silo and its catalog, together.
            var primary = await silos.CatalogDriverAsync();
            first.Kill();
            await primary.KillAsync(InstanceSignal.Kill, CancellationToken.None);
            var watch = Stopwatch.StartNew();
            await third.WaitUntilAsync(async () =>
            {
                try
                {
                    return (await security.CreateTokenAsync(NewToken("after"), deadline: DateTime.UtcNow.AddSeconds(3))).Token.Length > 0;
                }
                catch (RpcException)
                {
                    return false;
                }
            }, TimeSpan.FromMinutes(2));
            output.WriteLine($"catalog primary's host lost -> a command accepted again after {watch.Elapsed.TotalSeconds:0.0} s");

            var decided = (await CatalogManifest.ReadAsync(manifestPath, CancellationToken.None))!;
            Assert.Equal(CatalogStandby.Name, decided.PrimaryName);
            Assert.Equal(1, decided.Promotions);
            // The old primary lacks what the new one writes: marked with the promotion, so nothing promotes it back early.
            Assert.NotNull(decided.SynchronousDegradedSince);
            Assert.False(await InRecoveryAsync(standby.Endpoint));

            // The catalog's backups followed the promotion: the standby's silo archives into the first silo's repository,
            // and the third names where backups run and refuses to start one.
            var secondCatalog = new CatalogService.CatalogServiceClient(secondAdmin);
            var history = Path.Combine(silos.DataDirectory, "catalog-backups", "controlplane", "catalog", "wal", "00000002.history");
            await second.WaitUntilAsync(async () => (await secondCatalog.GetCatalogStatusAsync(new GetCatalogStatusRequest())).Archive is { Enabled: true, Streaming: true }
                && File.Exists(history), TimeSpan.FromMinutes(2));
            var thirdCatalog = new CatalogService.CatalogServiceClient(thirdAdmin);
            var elsewhere = (await thirdCatalog.GetCatalogStatusAsync(new GetCatalogStatusRequest())).Archive;
            Assert.False(elsewhere.Enabled);
            Assert.Contains("catalog backups run on the silo that runs the catalog primary 'catalog-standby'", elsewhere.DisabledReason, StringComparison.Ordinal);
            var refused = await Assert.ThrowsAsync<RpcException>(async () => await thirdCatalog.BackupCatalogAsync(new BackupCatalogRequest()));
            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Contains("'catalog-standby'", refused.Status.Detail, StringComparison.Ordinal);
            // None of the new timeline yet: the default schedule takes one at once, from the new primary.
            await second.WaitUntilAsync(async () => (await secondCatalog.GetCatalogStatusAsync(new GetCatalogStatusRequest())).Backups
                .Any(b => b.State == "succeeded" && b.Timeline == 2), TimeSpan.FromMinutes(3));

            // The host returns: its silo starts again and rewinds the old primary into a standby of the promoted one.
            var returned = silos.Launch();
            await returned.WaitUntilAsync(async () =>
            {
                try
                {
                    return await InRecoveryAsync(primary.Endpoint) && await StreamsAsync(standby.Endpoint, CatalogInstance.PrimaryName);
                }
                catch (NpgsqlException)
                {
                    return false;
                }
            }, TimeSpan.FromMinutes(3));
            Assert.True((await security.CreateTokenAsync(NewToken("rejoined"))).Token.Length > 0);
            // Rejoined as a synchronous standby and caught up: the promoted primary's silo clears the mark.
            await returned.WaitUntilAsync(async () =>
                (await CatalogManifest.ReadAsync(manifestPath, CancellationToken.None))!.SynchronousDegradedSince is null, TimeSpan.FromMinutes(1));
        }
        finally
        {
            // The second silo stops its standby when it stops, but not when its stop is cut short: stop it here, before the
            // cleanup deletes its data directory.
            if (second is not null) await silos.StopAsync(second);
            if (standby is not null)
            {
                try
                {
                    await standby.StopAsync(StopMode.Immediate, CancellationToken.None);
                }
                catch (Exception ex) when (ex is InvalidOperationException or IOException or ProcessFailedException)
                {
                }
            }
        }
    }

    private static CreateTokenRequest NewToken(string name) => new() { Name = $"{name}-{Guid.NewGuid().ToString("N")[..6]}", Role = Role.Viewer };

    private static Task<bool> InRecoveryAsync(ReplicaEndpoint endpoint) => CatalogProbe.InRecoveryAsync(endpoint);

    private static async Task<bool> StreamsAsync(ReplicaEndpoint primary, string standby)
    {
        await using var source = InspectorDataSource.Create(primary, "test", TimeSpan.FromSeconds(15));
        await using var connection = await source.OpenConnectionAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming'", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = standby });
        return (long)(await command.ExecuteScalarAsync())! == 1;
    }
}
