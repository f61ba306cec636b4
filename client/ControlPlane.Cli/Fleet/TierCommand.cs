using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Fleet;

/// <summary><c>cpctl tier NAME</c>: one tier and its replicas.</summary>
internal static class TierCommand
{
    public static Command Create(GlobalOptions globals, CliIo io)
    {
        var name = FleetArguments.Tier("The tier (e.g. oltp, content, queue, olap)");
        var command = new Command("tier", "One tier: health, primary, term, version and its replicas") { name };

        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var tier = await context.Client.Fleet.GetTierAsync(
                new GetTierRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(name) },
                deadline: CommandContext.UnaryDeadline(),
                cancellationToken: ct).ConfigureAwait(false);

            if (context.Json)
            {
                await JsonOutput.WriteAsync(io.Out, tier).ConfigureAwait(false);
            }
            else
            {
                io.Console.Write(FleetRendering.Tier(tier, DateTimeOffset.UtcNow));
            }

            return ExitCodes.Ok;
        });
        return command;
    }
}
