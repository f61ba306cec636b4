using Google.Protobuf;

namespace ControlPlane.Cli.Common;

/// <summary>Protobuf canonical JSON, one object per line, so scripts can read responses and streams alike.</summary>
internal static class JsonOutput
{
    // Default values are written too: a script reading "lagBytes" must find 0, not a missing key.
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    public static string Format(IMessage message) => Formatter.Format(message);

    public static async Task WriteAsync(TextWriter writer, IMessage message)
    {
        await writer.WriteLineAsync(Format(message)).ConfigureAwait(false);
        await writer.FlushAsync().ConfigureAwait(false);
    }
}
