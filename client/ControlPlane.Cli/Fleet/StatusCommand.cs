using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Fleet;

/// <summary><c>cpctl status</c>: the whole environment at a glance.</summary>
internal static class StatusCommand
{
    public static Command Create(GlobalOptions globals, CliIo io)
    {
        var command = new Command(
            "status",
            "Every tier (health, primary, term, version) and its replicas (role, health, lag, connections, last probe, failures, problem)");

        CommandRunner.SetHandler(command, globals, io, async (context, _, ct) =>
        {
            var response = await context.Client.Fleet.ListTiersAsync(
                new ListTiersRequest { Environment = context.Environment },
                deadline: CommandContext.UnaryDeadline(),
                cancellationToken: ct).ConfigureAwait(false);

            if (context.Json)
            {
                await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            }
            else
            {
                io.Console.Write(FleetRendering.Status(response, DateTimeOffset.UtcNow));
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
