namespace ControlPlane.IntegrationTests.Support;

/// <summary>The temporary directories fixtures create under /tmp.</summary>
public static class TestDirectory
{
    /// <summary>
    /// Removes a fixture's directory at teardown. A straggling postgres child may still hold a file or own a
    /// subdirectory; the OS temp cleaner gets what is left, and a teardown never fails a passed test over it.
    /// </summary>
    public static void DeleteQuietly(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
