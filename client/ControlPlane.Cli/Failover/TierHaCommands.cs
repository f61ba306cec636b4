using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Failover;

/// <summary><c>cpctl history TIER</c>, <c>cpctl routing TIER [--watch]</c>, <c>cpctl ha TIER [settings]</c>.</summary>
internal static class TierHaCommands
{
    public static Command History(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose decision log to show");
        var limit = new Option<int>("--limit") { Description = "How many of the newest decisions (1 to 200)", DefaultValueFactory = _ => 50 };
        limit.Validators.Add(r =>
        {
            if (Names.ParsedInt(r) is { } limit and (< 1 or > 200)) r.AddError($"--limit {limit} is out of range; expected 1 to 200.");
        });
        var command = new Command("history", "The tier's decision log: failovers, switchovers, fencing, pauses, alerts") { tier, limit };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var response = await context.Client.Failover.ListDecisionsAsync(
                new ListDecisionsRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier), Limit = parsed.GetValue(limit) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            else io.Console.Write(FailoverRendering.History(response));
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Routing(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier to route to");
        var watch = new Option<bool>("--watch") { Description = "Print the routing again whenever it changes, until Ctrl-C" };
        var command = new Command("routing", "Where to connect: the primary of the current term and the standbys with their lag") { tier, watch };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var request = new GetRoutingRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier) };
            if (!parsed.GetValue(watch))
            {
                var routing = await context.Client.Failover.GetRoutingAsync(request, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct)
                    .ConfigureAwait(false);
                if (context.Json) await JsonOutput.WriteAsync(io.Out, routing).ConfigureAwait(false);
                else io.Console.Write(FailoverRendering.Routing(routing));
                return ExitCodes.Ok;
            }
            using var call = context.Client.Failover.WatchRouting(request, cancellationToken: ct);
            while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
            {
                var routing = call.ResponseStream.Current;
                if (context.Json) await JsonOutput.WriteAsync(io.Out, routing).ConfigureAwait(false);
                else await io.Out.WriteLineAsync(FailoverRendering.RoutingLine(routing)).ConfigureAwait(false);
            }
            return ExitCodes.Unreachable;
        }, exitCodeWhenInterrupted: ExitCodes.Ok);
        return command;
    }

    public static Command Ha(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose HA settings to show or change");
        var auto = new Option<bool?>("--auto-failover") { Description = "true: the tier fails over on its own; false: only by command" };
        var threshold = new Option<int?>("--failure-threshold") { Description = "Consecutive failed probes before the primary is failed (1 to 100)" };
        var interval = new Option<int?>("--probe-interval-ms") { Description = "Probe period while failover is on (100 to 60000)" };
        var timeout = new Option<int?>("--probe-timeout-ms") { Description = "Probe deadline, below the interval" };
        var maxLag = new Option<long?>("--max-lag-on-failover") { Description = "Bytes a candidate may lag before it is refused" };
        var maxLagSeconds = new Option<double?>("--max-lag-on-failover-seconds") { Description = "Seconds of replay a candidate may lag before a failover refuses it (more than 0, at most 86400)" };
        var sync = new Option<string?>("--synchronous-mode") { Description = "off, on (relax when no standby is healthy) or strict (never relax)" };
        sync.AcceptOnlyFromAmong("off", "on", "strict");
        var priority = new Option<string[]>("--priority") { Description = "REPLICA=N promotion priority (0 never promotes); repeat for several", AllowMultipleArgumentsPerToken = true };
        var command = new Command("ha", "Show the tier's HA settings, or change those given") { tier, auto, threshold, interval, timeout, maxLag, maxLagSeconds, sync, priority };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var name = parsed.GetRequiredValue(tier);
            var settings = await context.Client.Failover.GetFailoverSettingsAsync(
                new GetFailoverSettingsRequest { Environment = context.Environment, Tier = name },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            var changed = parsed.GetValue(auto) is not null || parsed.GetValue(threshold) is not null || parsed.GetValue(interval) is not null
                || parsed.GetValue(timeout) is not null || parsed.GetValue(maxLag) is not null || parsed.GetValue(maxLagSeconds) is not null || parsed.GetValue(sync) is not null
                || (parsed.GetValue(priority)?.Length ?? 0) > 0;
            if (changed)
            {
                var wanted = settings.Clone();
                if (parsed.GetValue(auto) is { } a) wanted.AutoFailover = a;
                if (parsed.GetValue(threshold) is { } t) wanted.FailureThreshold = t;
                if (parsed.GetValue(interval) is { } i) wanted.ProbeIntervalMs = i;
                if (parsed.GetValue(timeout) is { } o) wanted.ProbeTimeoutMs = o;
                if (parsed.GetValue(maxLag) is { } m) wanted.MaxLagOnFailoverBytes = m;
                if (parsed.GetValue(maxLagSeconds) is { } ms) wanted.MaxLagOnFailoverSeconds = ms;
                if (parsed.GetValue(sync) is { } s)
                    wanted.SynchronousMode = s switch { "on" => SynchronousMode.On, "strict" => SynchronousMode.Strict, _ => SynchronousMode.Off };
                foreach (var entry in parsed.GetValue(priority) ?? [])
                {
                    var parts = entry.Split('=', 2);
                    if (parts.Length != 2 || Names.Check(parts[0], "--priority") is not null || !int.TryParse(parts[1], out var p))
                    {
                        await io.Error.WriteLineAsync($"error: --priority '{entry}' is invalid; expected REPLICA=N, like oltp-2=0.").ConfigureAwait(false);
                        return ExitCodes.Usage;
                    }
                    wanted.Priorities[parts[0]] = p;
                }
                settings = await context.Client.Failover.SetFailoverSettingsAsync(
                    new SetFailoverSettingsRequest { Environment = context.Environment, Tier = name, Settings = wanted },
                    deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            }
            if (context.Json) await JsonOutput.WriteAsync(io.Out, settings).ConfigureAwait(false);
            else io.Console.Write(FailoverRendering.Settings(settings));
            return ExitCodes.Ok;
        });
        return command;
    }
}
