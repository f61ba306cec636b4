namespace ControlPlane.Postgres.Instances;

/// <summary>
/// Unix file modes behind one platform guard, so the public API stays callable from platform-neutral code
/// (local instances are Linux-only; on Windows these fail loudly rather than leaving files readable).
/// </summary>
internal static class UnixFile
{
    public static UnixFileMode GetMode(string path)
    {
        if (OperatingSystem.IsWindows()) throw Unsupported();
        return File.GetUnixFileMode(path);
    }

    public static void SetMode(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows()) throw Unsupported();
        File.SetUnixFileMode(path, mode);
    }

    /// <summary>Creates <paramref name="path"/> (and missing parents) with <paramref name="mode"/>; no-op when it exists.</summary>
    public static void CreateDirectory(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows()) throw Unsupported();
        Directory.CreateDirectory(path, mode);
    }

    public static FileStreamOptions CreateNewOptions(UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows()) throw Unsupported();
        return new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = mode };
    }

    private static PlatformNotSupportedException Unsupported() =>
        new("Local PostgreSQL instances and secret files need a Unix host (file modes and the postgres user).");
}
