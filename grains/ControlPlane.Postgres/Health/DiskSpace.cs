namespace ControlPlane.Postgres.Health;

/// <summary>
/// Space left to PostgreSQL on an instance's host, from statvfs (what an unprivileged process may still allocate,
/// the root reserve excluded): the smaller of the data directory's filesystem and its <c>pg_wal</c>'s, which may be a
/// link to another one. A full pg_wal makes the server PANIC; a full data directory fails every write that needs a
/// new block. Host-local only.
/// </summary>
public static class DiskSpace
{
    /// <summary>Less than one WAL segment left: the server cannot add a WAL segment (it PANICs when it needs one), and
    /// a standby this full cannot take the WAL a promotion and its first writes need. Such a disk is full.</summary>
    public const long FullBelowBytes = 16L * 1024 * 1024;

    /// <summary>Below this (four WAL segments), every probe of a writable instance runs the disk write check.</summary>
    public const long WriteCheckBelowBytes = 64L * 1024 * 1024;

    /// <summary>Bytes available to PostgreSQL, or null when neither directory can be read.</summary>
    public static long? AvailableBytes(string dataDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        long? least = null;
        foreach (var directory in new[] { dataDirectory, Path.Combine(dataDirectory, "pg_wal") })
        {
            if (Available(directory) is { } bytes) least = least is { } l ? Math.Min(l, bytes) : bytes;
        }
        return least;
    }

    private static long? Available(string directory)
    {
        try
        {
            // On Unix DriveInfo takes any path and asks statvfs about the filesystem holding it.
            return Directory.Exists(directory) ? new DriveInfo(directory).AvailableFreeSpace : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }
}
