using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Security;

/// <summary><c>cpctl whoami</c>: the principal, role and tenant scope the gateway sees.</summary>
internal static class WhoAmICommand
{
    public static Command Create(GlobalOptions globals, CliIo io)
    {
        var command = new Command("whoami", "The principal, role and tenant scope the control plane sees for your credentials");
        CommandRunner.SetHandler(command, globals, io, async (context, _, ct) =>
        {
            var me = await context.Client.Security.WhoAmIAsync(
                new WhoAmIRequest(), deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, me).ConfigureAwait(false);
            else await io.Out.WriteLineAsync(SecurityRendering.WhoAmI(me)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
