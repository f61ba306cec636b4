using Spectre.Console;

namespace ControlPlane.Cli.Common;

/// <summary>
/// Where a command writes: raw writers for JSON and errors, a Spectre console for tables. <paramref name="Terminal"/>
/// says stdout is a terminal, where live displays (progress bars) may redraw; elsewhere output stays plain lines.
/// </summary>
internal sealed record CliIo(TextWriter Out, TextWriter Error, IAnsiConsole Console, bool Terminal = false)
{
    // Wide enough that replica tables never wrap when piped to a file or a test's writer.
    private const int RedirectedWidth = 240;

    public static CliIo For(TextWriter stdout, TextWriter stderr)
    {
        var terminal = ReferenceEquals(stdout, System.Console.Out) && !System.Console.IsOutputRedirected;
        var colour = terminal && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        var console = CreateConsole(stdout, colour, terminal ? null : RedirectedWidth);
        // Spectre draws live displays only on an interactive console; elsewhere it would fall back to its own lines.
        console.Profile.Capabilities.Interactive = terminal;
        return new CliIo(stdout, stderr, console, terminal);
    }

    public static IAnsiConsole CreateConsole(TextWriter writer, bool colour, int? width)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = colour ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = colour ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });

        if (width is int fixedWidth)
        {
            console.Profile.Width = fixedWidth;
        }

        return console;
    }
}
