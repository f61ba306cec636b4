using System.Reflection;

namespace ControlPlane.Silo.Board;

/// <summary>The board's page, stylesheet and script, embedded in the silo's assembly: nothing is fetched from elsewhere.</summary>
internal sealed class BoardAssets
{
    private const string Prefix = "board/";
    private readonly Dictionary<string, (byte[] Content, string Type)> _files;

    private BoardAssets(Dictionary<string, (byte[], string)> files) => _files = files;

    public static BoardAssets Load()
    {
        var assembly = typeof(BoardAssets).Assembly;
        var files = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            files[name[Prefix.Length..]] = (copy.ToArray(), TypeOf(name));
        }
        if (!files.ContainsKey("index.html")) throw new InvalidOperationException("the board's index.html is not embedded in the silo assembly");
        return new BoardAssets(files);
    }

    public bool TryGet(string name, out byte[] content, out string type)
    {
        var found = _files.TryGetValue(name, out var file);
        (content, type) = found ? file : ([], "");
        return found;
    }

    private static string TypeOf(string name) => Path.GetExtension(name) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".svg" => "image/svg+xml",
        _ => "application/octet-stream",
    };
}
