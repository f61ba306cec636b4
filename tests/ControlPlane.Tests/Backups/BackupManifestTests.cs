using ControlPlane.Postgres.Backups;
using Xunit;

namespace ControlPlane.Tests.Backups;

public sealed class BackupManifestTests
{
    private const string Manifest = """
        { "PostgreSQL-Backup-Manifest-Version": 1,
        "Files": [
        { "Path": "backup_label", "Size": 215, "Last-Modified": "2026-11-27 21:58:33 GMT", "Checksum-Algorithm": "CRC32C", "Checksum": "80bc2bc2" },
        { "Path": "PG_VERSION", "Size": 3, "Last-Modified": "2026-11-27 21:58:30 GMT", "Checksum-Algorithm": "CRC32C", "Checksum": "8a744722" }
        ],
        "WAL-Ranges": [
        { "Timeline": 1, "Start-LSN": "0/2000028", "End-LSN": "0/2000100" }
        ],
        "Manifest-Checksum": "a000234bb1c6b5aae8d152496937378efd9265091f6a4076bd737bf5b8cf68c3"}
        """;

    [Fact]
    public void The_wal_range_and_start_time_are_read_from_the_manifest()
    {
        var range = BackupManifest.Parse(Manifest);

        Assert.Equal(new BackupWalRange(1, 0x2000028, 0x2000100, new DateTimeOffset(2026, 11, 27, 21, 58, 33, TimeSpan.Zero)), range);
    }

    [Fact]
    public void A_backup_across_a_promotion_ends_on_the_newest_timeline()
    {
        var json = """
            { "Files": [], "WAL-Ranges": [
            { "Timeline": 3, "Start-LSN": "0/5000000", "End-LSN": "0/5000200" },
            { "Timeline": 2, "Start-LSN": "0/4FFFF00", "End-LSN": "0/5000000" } ] }
            """;

        var range = BackupManifest.Parse(json);

        Assert.Equal((3, 0x4FFFF00UL, 0x5000200UL), (range.Timeline, range.StartLsn, range.StopLsn));
        Assert.Null(range.StartedAt);
    }

    [Fact]
    public void A_manifest_without_wal_ranges_is_rejected_naming_the_field()
    {
        var e = Assert.Throws<FormatException>(() => BackupManifest.Parse("""{ "Files": [] }"""));

        Assert.Contains("WAL-Ranges", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("12345/67890 kB (18%), 0/1 tablespace", 12345L * 1024, 67890L * 1024)]
    [InlineData("22953/22953 kB (100%), 1/1 tablespace", 22953L * 1024, 22953L * 1024)]
    [InlineData("  10/20 kB (50%), 0/1 tablespace (base/1/1259)", 10L * 1024, 20L * 1024)]
    public void Progress_lines_are_read_as_bytes(string line, long done, long total) =>
        Assert.Equal((done, total), BackupManifest.ParseProgress(line));

    [Theory]
    [InlineData("waiting for checkpoint")]
    [InlineData("pg_basebackup: error: connection to server failed")]
    [InlineData("")]
    public void Other_lines_are_not_progress(string line) => Assert.Null(BackupManifest.ParseProgress(line));
}
