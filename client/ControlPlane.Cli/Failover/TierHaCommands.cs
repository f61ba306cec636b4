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
        var sync = new Option<string?>("--synchronous-mode") { Description = "off, on (asynchronous after --synchronous-degrade-after-ms with no standby streaming) or strict (commits wait)" };
        sync.AcceptOnlyFromAmong("off", "on", "strict");
        var degradeAfter = new Option<int?>("--synchronous-degrade-after-ms") { Description = "In mode on: how long commits may wait with no standby streaming before going asynchronous (0 at once to 3600000)" };
        var crashCount = new Option<int?>("--crash-loop-count") { Description = "In-place crash restarts within the window that fail the primary over (0 off, to 100)" };
        var crashWindow = new Option<int?>("--crash-loop-window-seconds") { Description = "The window crash restarts are counted in (10 to 3600)" };
        var diskFull = new Option<long?>("--disk-full-below-bytes") { Description = "Less space left than this is a full disk; such a standby is never promoted (at least 16777216)" };
        var diskCheck = new Option<long?>("--disk-write-check-below-bytes") { Description = "Below this much space left the primary's probe runs the disk write check (at least --disk-full-below-bytes)" };
        var notStreaming = new Option<int?>("--not-streaming-heal-after-seconds") { Description = "A standby answering but not streaming from the primary this long is rejoined (10 to 3600)" };
        var priority = new Option<string[]>("--priority") { Description = "REPLICA=N promotion priority (0 never promotes); repeat for several", AllowMultipleArgumentsPerToken = true };
        // 0 means "keep the current value" on the wire for these: refused here rather than silently ignored.
        NotZero(crashWindow, "10 to 3600");
        NotZero(diskFull, "16777216 to 1099511627776");
        NotZero(diskCheck, "--disk-full-below-bytes to 1099511627776");
        NotZero(notStreaming, "10 to 3600");
        var command = new Command("ha", "Show the tier's HA settings, or change those given") 
        {
            tier, auto, threshold, interval, timeout, maxLag, maxLagSeconds, sync, degradeAfter, crashCount, crashWindow, diskFull, diskCheck, notStreaming, priority,
        };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var name = parsed.GetRequiredValue(tier);
            var settings = await context.Client.Failover.GetFailoverSettingsAsync(
                new GetFailoverSettingsRequest { Environment = context.Environment, Tier = name },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            var changed = parsed.GetValue(auto) is not null || parsed.GetValue(threshold) is not null || parsed.GetValue(interval) is not null
                || parsed.GetValue(timeout) is not null || parsed.GetValue(maxLag) is not null || parsed.GetValue(maxLagSeconds) is not null || parsed.GetValue(sync) is not null
                || parsed.GetValue(degradeAfter) is not null || parsed.GetValue(crashCount) is not null || parsed.GetValue(crashWindow) is not null
                || parsed.GetValue(diskFull) is not null || parsed.GetValue(diskCheck) is not null || parsed.GetValue(notStreaming) is not null
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
                if (parsed.GetValue(degradeAfter) is { } d) wanted.SynchronousDegradeAfterMs = d;
                if (parsed.GetValue(crashCount) is { } cc) wanted.CrashLoopCount = cc;
                if (parsed.GetValue(crashWindow) is { } cw) wanted.CrashLoopWindowSeconds = cw;
                if (parsed.GetValue(diskFull) is { } df) wanted.DiskFullBelowBytes = df;
                if (parsed.GetValue(diskCheck) is { } dc) wanted.DiskWriteCheckBelowBytes = dc;
                if (parsed.GetValue(notStreaming) is { } ns) wanted.NotStreamingHealAfterSeconds = ns;
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

    /// <summary>Refuses a 0 given to <paramref name="option"/> (read from its token: a value that failed to convert must not be read).</summary>
    private static void NotZero(Option option, string expected) =>
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count == 1 && long.TryParse(r.Tokens[0].Value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v) && v == 0)
                r.AddError($"{option.Name} 0 is out of range; expected {expected}.");
        });
}
