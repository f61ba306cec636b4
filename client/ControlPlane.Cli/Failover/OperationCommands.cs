using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Failover;

/// <summary>
/// <c>cpctl switchover|failover|pause|resume TIER</c> and <c>cpctl operation ID</c>. Long commands follow their
/// operation until it finishes (unless <c>--no-wait</c>): exit 0 when it succeeded, 1 when it failed.
/// </summary>
internal static class OperationCommands
{
    public static Command Switchover(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose primary hands over");
        var target = TargetOption();
        var noWait = NoWaitOption();
        var command = new Command("switchover", "Planned switchover: stop the primary cleanly, promote the target once it has everything, rejoin the old primary")
        {
            tier, target, noWait,
        };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var op = await context.Client.Failover.SwitchoverAsync(
                new SwitchoverRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier), Target = parsed.GetValue(target) ?? "" },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await FollowAsync(context, op, parsed.GetValue(noWait), ct).ConfigureAwait(false);
        });
        return command;
    }

    public static Command Failover(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier to fail over");
        var target = TargetOption();
        var allowDataLoss = new Option<bool>("--allow-data-loss")
        {
            Description = "Promote even a lagging or non-synchronous standby, losing the WAL it lacks",
        };
        var noWait = NoWaitOption();
        var command = new Command("failover", "Manual failover: fence the primary and promote the target (or the best standby)")
        {
            tier, target, allowDataLoss, noWait,
        };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var op = await context.Client.Failover.FailoverAsync(
                new FailoverRequest
                {
                    Environment = context.Environment,
                    Tier = parsed.GetRequiredValue(tier),
                    Target = parsed.GetValue(target) ?? "",
                    AllowDataLoss = parsed.GetValue(allowDataLoss),
                },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await FollowAsync(context, op, parsed.GetValue(noWait), ct).ConfigureAwait(false);
        });
        return command;
    }

    public static Command Pause(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose automatic decisions stop (probes go on)");
        var reason = new Option<string>("--reason") { Description = "Why, kept in the decision log (at most 200 characters)" };
        var command = new Command("pause", "Stop the tier's automatic decisions; probes go on") { tier, reason };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var op = await context.Client.Failover.PauseTierAsync(
                new PauseTierRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier), Reason = parsed.GetValue(reason) ?? "" },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await FollowAsync(context, op, noWait: true, ct).ConfigureAwait(false);
        });
        return command;
    }

    public static Command Resume(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose automatic decisions restart");
        var command = new Command("resume", "Restart the tier's automatic decisions") { tier };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var op = await context.Client.Failover.ResumeTierAsync(
                new ResumeTierRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await FollowAsync(context, op, noWait: true, ct).ConfigureAwait(false);
        });
        return command;
    }

    public static Command Operation(GlobalOptions globals, CliIo io)
    {
        var id = new Argument<string>("ID") { Description = "Operation id as a command printed it, e.g. oltp.3" };
        var watch = new Option<bool>("--watch") { Description = "Follow the operation until it finishes" };
        var command = new Command("operation", "One operation: its state and steps") { id, watch };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var op = await context.Client.Failover.GetOperationAsync(
                new GetOperationRequest { Environment = context.Environment, OperationId = parsed.GetRequiredValue(id) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await FollowAsync(context, op, noWait: !parsed.GetValue(watch), ct).ConfigureAwait(false);
        });
        return command;
    }

    private static Option<string?> TargetOption()
    {
        var target = new Option<string?>("--target") { Description = "Replica to promote (default: the most advanced eligible standby)" };
        target.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && Names.Check(value, "--target") is { } error) result.AddError(error);
        });
        return target;
    }

    private static Option<bool> NoWaitOption() =>
        new("--no-wait") { Description = "Print the operation id and return without following it" };

    /// <summary>Prints the operation (and, when waiting, each new step) until it finishes.</summary>
    private static async Task<int> FollowAsync(CommandContext context, Operation op, bool noWait, CancellationToken ct)
    {
        var printed = 0;
        await PrintAsync(context, op, printed).ConfigureAwait(false);
        printed = op.Steps.Count;
        if (!noWait && !Finished(op))
        {
            using var call = context.Client.Failover.WatchOperation(
                new GetOperationRequest { Environment = context.Environment, OperationId = op.Id }, cancellationToken: ct);
            while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
            {
                op = call.ResponseStream.Current;
                await PrintAsync(context, op, printed).ConfigureAwait(false);
                printed = op.Steps.Count;
                if (Finished(op)) break;
            }
        }
        if (op.State == OperationState.Failed)
        {
            await context.Io.Error.WriteLineAsync($"error: operation {op.Id} failed: {op.Error}").ConfigureAwait(false);
            return ExitCodes.Refused;
        }
        return ExitCodes.Ok;
    }

    private static async Task PrintAsync(CommandContext context, Operation op, int alreadyPrinted)
    {
        if (context.Json)
        {
            await JsonOutput.WriteAsync(context.Io.Out, op).ConfigureAwait(false);
            return;
        }
        if (alreadyPrinted == 0)
        {
            await context.Io.Out.WriteLineAsync($"operation {op.Id}: {op.Kind} of tier {op.Tier} by {op.Principal}").ConfigureAwait(false);
        }
        foreach (var step in op.Steps.Skip(alreadyPrinted))
        {
            await context.Io.Out.WriteLineAsync($"  {step.At.ToDateTimeOffset():HH:mm:ss.fff}  {step.Message}").ConfigureAwait(false);
        }
        if (Finished(op))
        {
            await context.Io.Out.WriteLineAsync($"{op.Id} {FailoverRendering.State(op.State)} (term {op.Term})").ConfigureAwait(false);
        }
        await context.Io.Out.FlushAsync().ConfigureAwait(false);
    }

    private static bool Finished(Operation op) => op.State is OperationState.Succeeded or OperationState.Failed;
}
