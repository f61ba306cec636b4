using System.Text.Json;
using ControlPlane.Grains.Hosts;

namespace ControlPlane.Silo.Hosts;

/// <summary>
/// The silo's standing self-fences, one file per replica under <c>&lt;data-dir&gt;/self-fence/</c>, written and
/// fsynced before the instance is touched (the catalog is what this silo cannot reach). A silo restarted after a
/// partition reads them back, so it knows to lift (or keep) a fence it put up in its previous life.
/// </summary>
internal sealed class SelfFenceJournal(string directory)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public string Directory => directory;

    public SelfFenceRecord? Read(string tier, string replica)
    {
        var path = PathOf(tier, replica);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<SelfFenceRecord>(File.ReadAllText(path), Json);
        }
        catch (JsonException)
        {
            // A torn write cannot be: the file is renamed into place. Anything else unreadable is treated as a fence of
            // unknown term, which is never lifted by itself.
            return new SelfFenceRecord(tier, replica, null, SelfFenceAction.ReadOnly, File.GetLastWriteTimeUtc(path), "unreadable self-fence record");
        }
    }

    public void Write(SelfFenceRecord record)
    {
        System.IO.Directory.CreateDirectory(directory);
        var path = PathOf(record.Tier, record.Replica);
        var temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(file, record, Json);
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
    }

    public void Remove(string tier, string replica) => File.Delete(PathOf(tier, replica));

    private string PathOf(string tier, string replica) => Path.Combine(directory, $"{tier}.{replica}.json");
}
