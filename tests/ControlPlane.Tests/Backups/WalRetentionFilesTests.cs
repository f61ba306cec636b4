using ControlPlane.Postgres.Backups;
using Xunit;

namespace ControlPlane.Tests.Backups;

/// <summary>Retention on real files in a temporary directory (no server): the archive keeps its newest segment, the mirror does not.</summary>
public sealed class WalRetentionFilesTests : IDisposable
{
    private const long SegmentBytes = 16 * 1024 * 1024;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cp-walret-" + Guid.NewGuid().ToString("N")[..8]);

    public WalRetentionFilesTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Touch(params string[] names)
    {
        foreach (var n in names) File.WriteAllText(Path.Combine(_dir, n), "");
    }

    private string[] Left() => Directory.GetFiles(_dir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    [Fact]
    public void The_archive_keeps_its_newest_segment_even_below_the_cutoff_because_pg_receivewal_resumes_from_it()
    {
        Touch("000000010000000000000004", "000000010000000000000005");
        WalRepositoryFiles.DeleteBefore(_dir, cutoffSegment: 6, SegmentBytes);
        Assert.Equal(["000000010000000000000005"], Left());
    }

    [Fact]
    public void A_mirror_whose_newest_segment_lags_behind_the_cutoff_loses_it_too()
    {
        Touch("000000010000000000000004", "000000010000000000000005");
        WalRepositoryFiles.DeleteBefore(_dir, cutoffSegment: 6, SegmentBytes, keepNewest: false);
        Assert.Empty(Left());
    }

    [Fact]
    public void Segments_at_or_after_the_cutoff_and_history_files_stay_in_the_mirror()
    {
        Touch("000000010000000000000005", "000000010000000000000006", "00000002.history");
        WalRepositoryFiles.DeleteBefore(_dir, cutoffSegment: 6, SegmentBytes, keepNewest: false);
        Assert.Equal(["000000010000000000000006", "00000002.history"], Left());
    }
}
