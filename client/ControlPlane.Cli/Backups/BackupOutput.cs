using ControlPlane.Cli.Common;
using Google.Protobuf;
using Spectre.Console.Rendering;

namespace ControlPlane.Cli.Backups;

/// <summary>One response, as protobuf JSON with --json, else as its human view.</summary>
internal static class BackupOutput
{
    public static async Task<int> ShowAsync(CommandContext context, IMessage response, Func<IRenderable> view)
    {
        if (context.Json) await JsonOutput.WriteAsync(context.Io.Out, response).ConfigureAwait(false);
        else context.Io.Console.Write(view());
        return ExitCodes.Ok;
    }

    public static async Task<int> LineAsync(CommandContext context, IMessage response, string line)
    {
        if (context.Json) await JsonOutput.WriteAsync(context.Io.Out, response).ConfigureAwait(false);
        else await context.Io.Out.WriteLineAsync(line).ConfigureAwait(false);
        return ExitCodes.Ok;
    }
}
