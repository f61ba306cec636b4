using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Fleet;

/// <summary><c>cpctl replica TIER/NAME</c>: everything the last probe learned about one replica.</summary>
internal static class ReplicaCommand
{
    public static Command Create(GlobalOptions globals, CliIo io)
    {
        var address = FleetArguments.Replica();
        var command = new Command("replica", "One replica: role, health, LSNs, lag, connections, last probe") { address };

        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            // The parse-time validator already accepted it, so this cannot fail here.
            ReplicaAddress.TryParse(parsed.GetRequiredValue(address), out var target, out _);
            var replica = await context.Client.Fleet.GetReplicaAsync(
                new GetReplicaRequest { Environment = context.Environment, Tier = target!.Tier, Replica = target.Name },
                deadline: CommandContext.UnaryDeadline(),
                cancellationToken: ct).ConfigureAwait(false);

            if (context.Json)
            {
                await JsonOutput.WriteAsync(io.Out, replica).ConfigureAwait(false);
            }
            else
            {
                io.Console.Write(FleetRendering.Replica(replica, DateTimeOffset.UtcNow));
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
