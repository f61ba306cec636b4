using System.CommandLine;
using ControlPlane.Cli.Backups;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Cli.Monitoring;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;

namespace ControlPlane.Cli.Capacity;

/// <summary>
/// <c>cpctl capacity TIER [--resource R] [--window 7d] [--sample] [--json]</c>: the tier's capacity view, with a
/// text chart of one series' history and forecast (database_bytes unless --resource names another).
/// </summary>
internal static class CapacityCommand
{
    public static Command Create(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier to show");
        var resource = new Option<string?>("--resource") { Description = "Chart (and with --json return) only this resource, e.g. connections", HelpName = "R" };
        var window = new Option<string?>("--window") { Description = "Forecast from only the newest part of the history (e.g. 7d after a bulk load)", HelpName = "DURATION" };
        window.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is not { } text) return;
            if (DurationText.TryParse(text, "--window", out var value) is { } error) r.AddError(error);
            else if (value <= TimeSpan.Zero) r.AddError($"--window '{text}' must be positive, like 30m or 7d.");
        });
        var sample = new Option<bool>("--sample") { Description = "Sample every replica now before showing (operator)" };
        var command = new Command("capacity",
            "Capacity of a tier: sizes, disk, connections, TPS, WAL rate, tenants; forecasts to each limit with a 95 % interval, recommendations, cost")
        {
            tier, resource, window, sample,
        };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var client = new CapacityService.CapacityServiceClient(context.Client.CallInvoker);
            var name = parsed.GetRequiredValue(tier);
            if (parsed.GetValue(sample))
            {
                // A sample reads every replica one after the other, each with its own deadline: allow a minute.
                await client.SampleCapacityAsync(new SampleCapacityRequest { Environment = context.Environment, Tier = name },
                    deadline: DateTime.UtcNow.AddMinutes(1), cancellationToken: ct).ConfigureAwait(false);
            }
            var request = new GetCapacityRequest { Environment = context.Environment, Tier = name, Resource = parsed.GetValue(resource) ?? "" };
            if (parsed.GetValue(window) is { } text) request.Window = Duration.FromTimeSpan(DurationArgument.Parse("--window", text));
            var view = await client.GetCapacityAsync(request, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, view).ConfigureAwait(false);
            else await io.Out.WriteAsync(CapacityRendering.View(view, parsed.GetValue(resource))).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
