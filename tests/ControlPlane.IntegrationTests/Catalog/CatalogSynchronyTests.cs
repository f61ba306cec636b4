using System.Diagnostics;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using ControlPlane.Protos.V1;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Catalog;

/// <summary>
/// The catalog's synchronous standby lost for real (all its processes frozen with SIGSTOP, as a host that stopped
/// answering): commands stall only until <c>SynchronousDegradeAfter</c> (5 s), then the primary commits without the
/// standby, the manifest says so first, and the status raises the alert. Thawed, the standby is waited for again and,
/// once caught up, the mark is cleared; what was acknowledged meanwhile is on it.
/// </summary>
[Trait("Category", "Postgres")]
public sealed class CatalogSynchronyTests(CatalogStandbyFixture fixture, ITestOutputHelper output) : IClassFixture<CatalogStandbyFixture>
{
    [Fact]
    public async Task A_frozen_catalog_standby_stalls_commands_only_until_the_primary_degrades_and_is_synchronous_again_once_thawed()
    {
        var instances = fixture.Silo.Instances;
        var standby = instances.CatalogStandby!.Driver;
        var catalog = new CatalogService.CatalogServiceClient(fixture.Admin);
        var security = new SecurityService.SecurityServiceClient(fixture.Admin);
        var manifestPath = Path.Combine(instances.CatalogDirectory!, CatalogInstance.ManifestFile);
        Assert.Null((await catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest())).Replication.DegradedSince);

        string created;
        await standby.SignalAllAsync(InstanceSignal.Stop, CancellationToken.None);
        try
        {
            var watch = Stopwatch.StartNew();
            var token = await security.CreateTokenAsync(
                new CreateTokenRequest { Name = "while-degraded-" + Guid.NewGuid().ToString("N")[..6], Role = Role.Viewer },
                deadline: DateTime.UtcNow.AddMinutes(2));
            created = token.Info.Name;
            output.WriteLine($"a command acknowledged {watch.ElapsedMilliseconds} ms after the standby was frozen (degrade after 5 s)");

            var manifest = await CatalogManifest.ReadAsync(manifestPath, CancellationToken.None);
            Assert.NotNull(manifest!.SynchronousDegradedSince);
            Assert.Contains("has not streamed for", manifest.SynchronousDegradedReason, StringComparison.Ordinal);
            var status = await catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest());
            Assert.NotNull(status.Replication.DegradedSince);
            Assert.True(status.Replication.Observed, "the primary's silo reports no observation of its standby");
            Assert.False(status.Replication.WaitsForStandby);
            Assert.Equal("", status.Replication.StandbyState);
            Assert.Equal("", await SynchronousNamesAsync(instances.Catalog!.Driver.Port));
        }
        finally
        {
            await standby.SignalAllAsync(InstanceSignal.Continue, CancellationToken.None);
        }

        var thawed = Stopwatch.StartNew();
        GetCatalogStatusResponse? last = null;
        while (thawed.Elapsed < TimeSpan.FromMinutes(2))
        {
            last = await catalog.GetCatalogStatusAsync(new GetCatalogStatusRequest());
            if (last.Replication.DegradedSince is null) break;
            await Task.Delay(200);
        }
        Assert.True(last!.Replication.DegradedSince is null, $"still degraded 2 min after the thaw: {last.Replication}");
        output.WriteLine($"synchronous and caught up again {thawed.ElapsedMilliseconds} ms after the thaw");
        Assert.True(last.Replication.WaitsForStandby);
        Assert.Contains(last.Replication.StandbyState, new[] { "sync", "quorum" });
        Assert.Null((await CatalogManifest.ReadAsync(manifestPath, CancellationToken.None))!.SynchronousDegradedSince);
        Assert.NotEqual("", await SynchronousNamesAsync(instances.Catalog!.Driver.Port));

        // Acknowledged while the standby was away, and on it now.
        await using var replica = await fixture.OpenAsync(standby.Port, CatalogInstance.DatabaseName);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM controlplane_tokens WHERE name = $1", replica);
        count.Parameters.Add(new NpgsqlParameter { Value = created });
        Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
    }

    private async Task<string> SynchronousNamesAsync(int port)
    {
        await using var connection = await fixture.OpenAsync(port);
        await using var command = new NpgsqlCommand("SELECT current_setting('synchronous_standby_names')", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
