using System.Text;
using System.Text.Json.Nodes;
using ControlPlane.Protos.V1;
using ControlPlane.Silo.Catalog;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit;

namespace ControlPlane.IntegrationTests.Catalog;

/// <summary>
/// Upgrading from the release that stored grain state as type-named JSON: a real catalog holding such rows (the
/// tier's own history written back in the old format, and a tenants row captured from the previous release).
/// </summary>
[Collection(GrainStateUpgradeCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class GrainStateUpgradeTests(GrainStateUpgradeFixture fixture)
{
    [Fact]
    public async Task A_silo_started_on_old_format_rows_keeps_terms_decisions_backups_and_tenants_and_rewrites_every_row()
    {
        var downgraded = await PreviousReleaseCatalog.DowngradeAsync(fixture.Catalog);
        await using (var catalog = NpgsqlDataSource.Create(fixture.Catalog))
        {
            await PreviousReleaseCatalog.SetPayloadAsync(catalog, "tenants", "local", Encoding.UTF8.GetBytes(CapturedPayload("tenants")));
        }
        var before = await PreviousReleaseCatalog.RowsAsync(fixture.Catalog);
        Assert.True(downgraded >= 5, $"{downgraded} rows downgraded");
        Assert.True(fixture.TierBefore.Term >= 2, "the history has a switchover");
        Assert.Contains(fixture.DecisionsBefore, d => d.Kind == "switchover");
        Assert.NotEmpty(fixture.BackupsBefore);
        Assert.All(before, r => Assert.True(r.Legacy, $"{r.State} {r.Key} should be in the old format"));

        await fixture.WithSiloAsync(async (silo, tier, backups, pools) =>
        {
            var after = await PreviousReleaseCatalog.RowsAsync(fixture.Catalog);
            Assert.All(after, r => Assert.False(r.Legacy, $"{r.State} {r.Key} still in the old format after start-up"));
            Assert.True(await PreviousReleaseCatalog.MigrationRecordedAsync(fixture.Catalog));

            var now = await tier.WaitAsync(Failover.TierControl.IsConverged, TimeSpan.FromMinutes(2));
            Assert.Equal(fixture.TierBefore.Term, now.Term);
            Assert.Equal(fixture.TierBefore.Primary, now.Primary);
            var decisions = (await tier.DecisionsAsync()).Select(d => (d.Sequence, d.Kind, d.Term)).ToHashSet();
            Assert.All(fixture.DecisionsBefore, d => Assert.Contains((d.Sequence, d.Kind, d.Term), decisions));
            var backupIds = (await backups.ListAsync()).Select(b => (b.Id, b.State)).ToHashSet();
            Assert.All(fixture.BackupsBefore, b => Assert.Contains((b.Id, b.State), backupIds));
            var tenants = (await pools.ListTenantsAsync(new ListTenantsRequest())).Tenants;
            Assert.Equal(8, tenants.Single(t => t.Name == "initrode").Plans.Single().Max);
            Assert.Contains(tenants, t => t.Name == "umbrella");
            Assert.DoesNotContain(fixture.Logs.Lines, l => l.Contains("could not be read", StringComparison.Ordinal));
            Assert.Contains(fixture.Logs.Lines, l => l.Contains($"rewritten into Orleans' encoding: {before.Count} rows", StringComparison.Ordinal));
        });
    }

    [Fact]
    public async Task Silos_migrating_at_once_rewrite_each_row_once_and_keep_every_version()
    {
        await PreviousReleaseCatalog.DowngradeAsync(fixture.Catalog);
        var before = await PreviousReleaseCatalog.RowsAsync(fixture.Catalog);

        var results = await Task.WhenAll(Migration().RunAsync(CancellationToken.None), Migration().RunAsync(CancellationToken.None));

        var after = await PreviousReleaseCatalog.RowsAsync(fixture.Catalog);
        Assert.Equal(before.Count, results.Sum(r => r.Rewritten));
        Assert.Single(results, r => r.AlreadyRecorded);
        Assert.All(results, r => Assert.Equal(0, r.Failed));
        Assert.Equal(before.Select(r => (r.State, r.Key, r.Version)), after.Select(r => (r.State, r.Key, r.Version)));
        Assert.All(after, r => Assert.False(r.Legacy));
        Assert.True((await Migration().RunAsync(CancellationToken.None)).AlreadyRecorded);
    }

    [Fact]
    public async Task An_unreadable_row_is_left_alone_and_the_migration_retried_at_the_next_start()
    {
        await PreviousReleaseCatalog.DowngradeAsync(fixture.Catalog);
        await using var catalog = NpgsqlDataSource.Create(fixture.Catalog);
        await PreviousReleaseCatalog.SetPayloadAsync(catalog, "fleet", "local",
            Encoding.UTF8.GetBytes("""{"$type":"System.IO.FileInfo, System.Private.CoreLib","OriginalPath":"/etc/passwd"}"""));

        var result = await Migration().RunAsync(CancellationToken.None);

        Assert.Equal(1, result.Failed);
        Assert.False(await PreviousReleaseCatalog.MigrationRecordedAsync(fixture.Catalog));
        var rows = await PreviousReleaseCatalog.RowsAsync(fixture.Catalog);
        Assert.True(rows.Single(r => r.State == "fleet").Legacy);
        Assert.All(rows.Where(r => r.State != "fleet"), r => Assert.False(r.Legacy));

        // Put the real row back (in the new encoding) so the fixture's other tests find a sound catalog.
        await PreviousReleaseCatalog.SetPayloadAsync(catalog, "fleet", "local",
            PreviousReleaseCatalog.Current.Serialize(typeof(ControlPlane.Grains.Fleet.FleetState), new ControlPlane.Grains.Fleet.FleetState { Tiers = ["oltp"] }));
    }

    private GrainStateMigration Migration() =>
        new(fixture.Catalog, PreviousReleaseCatalog.Current, PreviousReleaseCatalog.Legacy, NullLogger<GrainStateMigration>.Instance);

    private static string CapturedPayload(string state)
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Catalog", "Fixtures", "legacy-grain-state.json")))!;
        return (string)root["rows"]!.AsArray().First(r => (string)r!["state"]! == state)!["payload"]!;
    }
}
