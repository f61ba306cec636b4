namespace ControlPlane.Postgres.Health;

/// <summary>One filesystem as statvfs reports it: its mount point, size and what an unprivileged process may still
/// allocate on it (the root reserve excluded, so a "full" disk reads 0 here before df shows 100 %).</summary>
public sealed record FilesystemSpace(string Path, string Mount, long TotalBytes, long AvailableBytes)
{
    public long UsedBytes => TotalBytes - AvailableBytes;

    public double FreeRatio => TotalBytes > 0 ? (double)AvailableBytes / TotalBytes : 0;
}

/// <summary>
/// One reading of an instance's disks: the filesystem of its data directory and the one of its <c>pg_wal</c> (the
/// same one unless pg_wal is a link elsewhere). The probe's failure modes (<c>replica_disk_full</c>,
/// <c>replica_disk_available_bytes</c>) and the capacity sampler (<c>disk_used_bytes</c>, <c>wal_disk_used_bytes</c>,
/// <c>data_directory_free_ratio</c>) read the same numbers from here.
/// </summary>
public sealed record DiskReading(FilesystemSpace? DataDirectory, FilesystemSpace? Wal)
{
    /// <summary>Bytes left to PostgreSQL: the smaller of the two, since either one full stops writes; null when neither was read.</summary>
    public long? AvailableBytes => (DataDirectory?.AvailableBytes, Wal?.AvailableBytes) switch
    {
        ({ } d, { } w) => Math.Min(d, w),
        ({ } d, null) => d,
        (null, { } w) => w,
        _ => null,
    };

    /// <summary>pg_wal lives on a filesystem of its own (a link to another mount), so its space is a resource of its own.</summary>
    public bool WalOnOwnFilesystem => DataDirectory is { } d && Wal is { } w && !string.Equals(d.Mount, w.Mount, StringComparison.Ordinal);
}

/// <summary>
/// Space left to PostgreSQL on an instance's host, from statvfs: the data directory's filesystem and its
/// <c>pg_wal</c>'s, which may be a link to another one. A full pg_wal makes the server PANIC; a full data directory
/// fails every write that needs a new block. Host-local only.
/// </summary>
public static class DiskSpace
{
    /// <summary>Less than one WAL segment left: the server cannot add a WAL segment (it PANICs when it needs one), and
    /// a standby this full cannot take the WAL a promotion and its first writes need. Such a disk is full.</summary>
    public const long FullBelowBytes = 16L * 1024 * 1024;

    /// <summary>Below this (four WAL segments), every probe of a writable instance runs the disk write check.</summary>
    public const long WriteCheckBelowBytes = 64L * 1024 * 1024;

    /// <summary>Both filesystems of <paramref name="dataDirectory"/>; null when neither can be read (not on this host).</summary>
    public static DiskReading? Read(string? dataDirectory)
    {
        if (string.IsNullOrEmpty(dataDirectory)) return null;
        var data = Filesystem(dataDirectory);
        var wal = Filesystem(Path.Combine(dataDirectory, "pg_wal"));
        return data is null && wal is null ? null : new DiskReading(data, wal);
    }

    /// <summary>Bytes available to PostgreSQL, or null when neither directory can be read.</summary>
    public static long? AvailableBytes(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        return Read(dataDirectory)?.AvailableBytes;
    }

    private static FilesystemSpace? Filesystem(string directory)
    {
        try
        {
            if (!Directory.Exists(directory)) return null;
            // On Unix DriveInfo takes any path and asks statvfs about the filesystem holding it (a link is followed).
            var drive = new DriveInfo(directory);
            return drive.TotalSize > 0 ? new FilesystemSpace(directory, MountOf(directory), drive.TotalSize, drive.AvailableFreeSpace) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>The mount point holding <paramref name="directory"/> (its link followed): the longest mount of
    /// /proc/self/mounts that prefixes it; "" where that file cannot be read. DriveInfo's Name is the path it was given.</summary>
    public static string MountOf(string directory)
    {
        var target = Directory.ResolveLinkTarget(directory, returnFinalTarget: true)?.FullName ?? Path.GetFullPath(directory);
        try
        {
            return LongestMount(target, File.ReadLines("/proc/self/mounts").Select(l => l.Split(' ')).Where(f => f.Length > 1).Select(f => Unescape(f[1])));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>The longest of <paramref name="mounts"/> that is <paramref name="path"/> or one of its ancestors.</summary>
    public static string LongestMount(string path, IEnumerable<string> mounts) =>
        mounts.Where(m => path == m || path.StartsWith(m.EndsWith('/') ? m : m + "/", StringComparison.Ordinal))
            .OrderByDescending(m => m.Length).FirstOrDefault() ?? "";

    // /proc/mounts writes a space in a mount point as \040 (and tab, newline, backslash likewise in octal).
    private static string Unescape(string field) =>
        field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
            .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);
}
