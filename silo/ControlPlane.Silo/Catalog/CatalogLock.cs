using System.Globalization;

namespace ControlPlane.Silo.Catalog;

/// <summary>
/// <c>&lt;data-dir&gt;/catalog.lock</c>, held (an exclusive advisory lock) by the silo that runs the embedded catalog
/// from before it starts the catalog until after it stopped it, and by <c>catalog-restore</c> while it runs. A restore
/// refuses while a silo holds it: that silo would restart the catalog under the restore's feet, or stop the restored
/// one on its way out. The silo itself only warns when it cannot take it (two silos of one data directory are
/// already refused by the catalog's own postmaster.pid).
/// </summary>
internal sealed class CatalogLock : IDisposable
{
    public const string FileName = "catalog.lock";

    private readonly FileStream _file;

    private CatalogLock(FileStream file) => _file = file;

    /// <summary>The lock, or null with who holds it (the pid written by the holder) when another process has it.</summary>
    public static CatalogLock? TryAcquire(string dataDirectory, out string holder)
    {
        var path = Path.Combine(Path.GetFullPath(dataDirectory), FileName);
        holder = "";
        try
        {
            var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            file.SetLength(0);
            var pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
            file.Write(pid);
            file.Flush();
            return new CatalogLock(file);
        }
        catch (IOException)
        {
            try
            {
                using var read = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                using var reader = new StreamReader(read);
                holder = reader.ReadLine()?.Trim() ?? "";
            }
            catch (IOException)
            {
            }
            return null;
        }
    }

    public void Dispose() => _file.Dispose();
}
