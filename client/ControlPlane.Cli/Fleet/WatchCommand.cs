using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Client;
using ControlPlane.Client.Fleet;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Spectre.Console;

namespace ControlPlane.Cli.Fleet;

/// <summary><c>cpctl watch [TIER]</c>: one line per event until Ctrl-C, which is the normal way out (exit 0).</summary>
internal static class WatchCommand
{
    public static Command Create(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.OptionalTier("Watch only this tier; without it, every tier of the environment");
        var command = new Command(
            "watch",
            "Stream tier events (a snapshot, then every change) until Ctrl-C: time, tier, version, health, primary, term, changes")
        {
            tier,
        };

        CommandRunner.SetHandler(
            command,
            globals,
            io,
            async (context, parsed, ct) =>
            {
                var events = parsed.GetValue(tier) is { } name
                    ? WatchTier(context, name, ct)
                    : WatchFleet(context, ct);
                await foreach (var tierEvent in events.ConfigureAwait(false))
                {
                    await WriteAsync(context, tierEvent).ConfigureAwait(false);
                }

                // The server ended the fleet stream (silo shutting down): nothing more will come.
                await io.Error.WriteLineAsync("watch: the control plane closed the stream").ConfigureAwait(false);
                return ExitCodes.Unreachable;
            },
            exitCodeWhenInterrupted: ExitCodes.Ok);
        return command;
    }

    private static IAsyncEnumerable<TierEvent> WatchTier(CommandContext context, string tier, CancellationToken ct)
    {
        var options = new TierWatchOptions
        {
            // Unreachable at start is a configuration problem: say so (exit 3) instead of retrying silently.
            RetryBeforeFirstEvent = false,
            OnReconnecting = (error, delay) => context.Io.Error.WriteLine(
                $"watch: lost the control plane at {ControlPlaneEndpoint.Display(context.Endpoint)} "
                + $"({CliFailure.StatusName(error.StatusCode)}); reconnecting in {FleetFormat.Duration(delay)}"),
        };
        return context.Client.WatchTiers(context.Environment, options).WatchTierAsync(tier, ct);
    }

    private static async IAsyncEnumerable<TierEvent> WatchFleet(
        CommandContext context,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        using var call = context.Client.Fleet.WatchFleet(
            new WatchFleetRequest { Environment = context.Environment },
            cancellationToken: ct);
        await foreach (var tierEvent in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
        {
            yield return tierEvent;
        }
    }

    private static async Task WriteAsync(CommandContext context, TierEvent tierEvent)
    {
        if (context.Json)
        {
            await JsonOutput.WriteAsync(context.Io.Out, tierEvent).ConfigureAwait(false);
            return;
        }

        context.Io.Console.MarkupLine(FleetRendering.WatchLine(tierEvent));
        await context.Io.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
