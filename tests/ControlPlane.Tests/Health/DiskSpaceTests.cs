using ControlPlane.Postgres.Health;
using Xunit;

namespace ControlPlane.Tests.Health;

/// <summary>The one disk reading the replica probe and the capacity sampler share.</summary>
public sealed class DiskSpaceTests
{
    private static FilesystemSpace Fs(string path, string mount, long total, long available) => new(path, mount, total, available);

    [Fact]
    public void Available_bytes_are_the_smaller_of_the_data_directory_and_pg_wal_since_either_full_stops_writes()
    {
        Assert.Equal(300, new DiskReading(Fs("/d", "/", 1000, 500), Fs("/d/pg_wal", "/wal", 400, 300)).AvailableBytes);
        Assert.Equal(500, new DiskReading(Fs("/d", "/", 1000, 500), null).AvailableBytes);
        Assert.Equal(300, new DiskReading(null, Fs("/d/pg_wal", "/wal", 400, 300)).AvailableBytes);
        Assert.Null(new DiskReading(null, null).AvailableBytes);
    }

    [Fact]
    public void Pg_wal_is_a_resource_of_its_own_only_on_another_mount()
    {
        Assert.True(new DiskReading(Fs("/d", "/", 1000, 500), Fs("/d/pg_wal", "/wal", 400, 300)).WalOnOwnFilesystem);
        Assert.False(new DiskReading(Fs("/d", "/", 1000, 500), Fs("/d/pg_wal", "/", 1000, 500)).WalOnOwnFilesystem);
        Assert.False(new DiskReading(Fs("/d", "/", 1000, 500), null).WalOnOwnFilesystem);
        Assert.Equal(0.5, Fs("/d", "/", 1000, 500).FreeRatio);
        Assert.Equal(500, Fs("/d", "/", 1000, 500).UsedBytes);
    }

    [Theory]
    [InlineData("/srv/pg/data/pg_wal", "/srv/pg")]
    [InlineData("/srv/pgx/data", "/")]
    [InlineData("/srv/pg", "/srv/pg")]
    [InlineData("/var/lib/postgresql", "/var")]
    public void The_mount_of_a_path_is_the_longest_mount_point_above_it(string path, string mount) =>
        Assert.Equal(mount, DiskSpace.LongestMount(path, ["/", "/srv/pg", "/var", "/srv/pg/other"]));

    [Fact]
    public void A_local_directory_reads_both_filesystems_and_a_missing_one_reads_nothing()
    {
        var root = Path.Combine(Path.GetTempPath(), "cp-disk-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(root, "pg_wal"));
        try
        {
            var reading = DiskSpace.Read(root);
            Assert.NotNull(reading?.DataDirectory);
            Assert.NotNull(reading.Wal);
            Assert.Equal(reading.DataDirectory.Mount, reading.Wal.Mount);
            Assert.False(reading.WalOnOwnFilesystem);
            Assert.InRange(reading.DataDirectory.AvailableBytes, 0, reading.DataDirectory.TotalBytes);
            Assert.NotNull(DiskSpace.AvailableBytes(root));
            Assert.Null(DiskSpace.Read(Path.Combine(root, "nosuch")));
            Assert.Null(DiskSpace.Read(null));
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }
}
