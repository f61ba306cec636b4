using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace ControlPlane.Cli.Common;

/// <summary>Appends the exit codes to every command's --help, where scripts' authors look for them.</summary>
internal sealed class ExitCodesHelp(HelpAction inner) : SynchronousCommandLineAction
{
    public override bool ClearsParseErrors => true;

    public static void Install(RootCommand root)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        if (help.Action is HelpAction inner)
        {
            help.Action = new ExitCodesHelp(inner);
        }
    }

    public override int Invoke(ParseResult parseResult)
    {
        var result = inner.Invoke(parseResult);
        var output = parseResult.InvocationConfiguration.Output;
        output.WriteLine(ExitCodes.HelpText);
        return result;
    }
}
