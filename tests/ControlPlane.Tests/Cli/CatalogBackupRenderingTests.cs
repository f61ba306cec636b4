using ControlPlane.Cli.Catalog;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;
using Xunit;

namespace ControlPlane.Tests.Cli;

public sealed class CatalogBackupRenderingTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 6, 12, 0, 5, TimeSpan.Zero);

    private static GetCatalogStatusResponse Status() => new()
    {
        Reachable = true,
        Archive = new CatalogArchive
        {
            Enabled = true,
            Repository = "/data/catalog-backups/controlplane/catalog",
            Streaming = true,
            NewestSegment = "000000010000000000000004",
            Schedule = "0 */6 * * *",
            KeepLast = 8,
            NextBackup = Timestamp.FromDateTimeOffset(At.AddHours(6).AddSeconds(-5)),
        },
        Backups =
        {
            new CatalogBackup
            {
                Id = "20261206T120000Z", State = "succeeded", Finished = Timestamp.FromDateTimeOffset(At), Bytes = 6 << 20,
                Timeline = 1, StartLsn = "0/2000028", StopLsn = "0/2000100",
            },
            new CatalogBackup { Id = "20261206T130000Z", State = "failed", Finished = Timestamp.FromDateTimeOffset(At.AddHours(1)), Error = "disk full" },
        },
    };

    [Fact]
    public void Status_lists_the_archive_the_schedule_and_every_backup()
    {
        var text = string.Join("\n", CatalogBackupRendering.Lines(Status()));
        Assert.Contains("WAL archive  : streaming, newest segment 000000010000000000000004, 0 restart(s)", text, StringComparison.Ordinal);
        Assert.Contains("schedule     : '0 */6 * * *' UTC, keep 8, next 2026-12-06 18:00:00Z", text, StringComparison.Ordinal);
        Assert.Contains("  20261206T120000Z  succeeded  2026-12-06 12:00:05Z  6.0 MiB  timeline 1  WAL 0/2000028..0/2000100", text, StringComparison.Ordinal);
        Assert.Contains("  20261206T130000Z  FAILED     2026-12-06 13:00:05Z  disk full", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_silo_without_the_embedded_catalog_says_why_backups_are_off()
    {
        var status = new GetCatalogStatusResponse { Archive = new CatalogArchive { Enabled = false, DisabledReason = "this silo runs no embedded catalog" } };
        Assert.Equal(["backups      : off (this silo runs no embedded catalog)"], CatalogBackupRendering.Lines(status));
    }
}
