using System.Text.Json;
using System.Text.Json.Serialization;

namespace ControlPlane.Bench.Common;

/// <summary>Machine-readable results: camelCase JSON, one document per run.</summary>
public static class JsonReport
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string Serialize<T>(T result) => JsonSerializer.Serialize(result, Options);

    /// <summary>Writes the result to stdout when <paramref name="json"/> is set, and to <paramref name="file"/> when given.</summary>
    public static async Task WriteAsync<T>(T result, bool json, FileInfo? file, TextWriter stdout, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        var text = Serialize(result);
        if (json) await stdout.WriteLineAsync(text);
        if (file is not null) await File.WriteAllTextAsync(file.FullName, text + "\n", ct);
    }
}
