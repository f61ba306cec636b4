using ControlPlane.Protos.V1;
using Grpc.Core;
using Xunit;
using Xunit.Abstractions;

namespace ControlPlane.IntegrationTests.Catalog;

/// <summary>
/// The embedded catalog of a silo with the default settings is backed up without anyone asking: its WAL streams into
/// the repository under the data directory, and a catalog with no backup gets one at once. On-demand backups queue
/// nothing: a second request while one runs is refused naming it.
/// </summary>
[Collection(CatalogOutageCollection.Name)]
[Trait("Category", "Postgres")]
public sealed class CatalogBackupScheduleTests(CatalogOutageFixture fixture, ITestOutputHelper output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task A_new_embedded_catalog_is_backed_up_at_once_and_its_wal_streams_into_the_repository()
    {
        var status = await fixture.WaitForCatalogAsync(s => s.Archive.Streaming && s.Backups.Any(b => b.State == "succeeded"), Generous);
        var repository = Path.Combine(fixture.DataDirectory, "catalog-backups", "controlplane", "catalog");
        Assert.Equal(repository, status.Archive.Repository);
        Assert.Equal("0 */6 * * *", status.Archive.Schedule);
        Assert.True(status.Archive.NextBackup.ToDateTimeOffset() > DateTimeOffset.UtcNow, $"the next backup is due at {status.Archive.NextBackup}, expected the next 6-hour mark");
        var first = status.Backups.First(b => b.State == "succeeded");
        Assert.True(File.Exists(Path.Combine(repository, "base", first.Id, "backup_manifest")), $"backup {first.Id} has no manifest in the repository");
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(repository, "wal")));
        output.WriteLine($"first catalog backup {first.Id}: {first.Bytes} bytes, WAL {first.StartLsn}..{first.StopLsn}; archive at {status.Archive.NewestSegment}");
    }

    [Fact]
    public async Task A_backup_requested_while_one_runs_is_refused_naming_it()
    {
        await fixture.WaitForCatalogAsync(s => s.Reachable && s.Archive.Streaming && !s.Backups.Any(b => b.State == "running"), Generous);
        var catalog = fixture.CatalogStatus();
        var running = await catalog.BackupCatalogAsync(new BackupCatalogRequest());
        Assert.Equal("running", running.State);
        var refused = await Assert.ThrowsAsync<RpcException>(() => catalog.BackupCatalogAsync(new BackupCatalogRequest()).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains($"catalog backup {running.Id} is running since", refused.Status.Detail, StringComparison.Ordinal);
        var done = await fixture.WaitForCatalogAsync(s => s.Backups.Any(b => b.Id == running.Id && b.State != "running"), Generous);
        var ended = done.Backups.Last(b => b.Id == running.Id);
        Assert.True(ended.State == "succeeded", $"catalog backup {ended.Id} {ended.State}: {ended.Error}");
    }
}
