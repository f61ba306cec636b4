using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Protos.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Spectre.Console;

namespace ControlPlane.Cli.Migrations;

/// <summary>
/// <c>cpctl change submit|plan|show|list|approve|rollout|watch|halt|resume|rollback|tag</c>: change requests on the
/// control plane. <c>rollout</c>, <c>resume</c> and <c>rollback</c> with <c>--wait</c>, and <c>watch</c>, follow the
/// change until it settles and exit 0 when it completed or rolled back, 1 when it halted.
/// </summary>
internal static class ChangeServerCommands
{
    private static readonly TimeSpan SubmitTimeout = TimeSpan.FromMinutes(2);

    public static void AddTo(Command change, GlobalOptions globals, CliIo io)
    {
        change.Add(Submit(globals, io));
        change.Add(Show("plan", "A submitted change's plan: lint findings, every statement's lock and duration class, every target's pending versions or drift", plan: true, globals, io));
        change.Add(Show("show", "One change: phase, approvals, targets and their states, history", plan: false, globals, io));
        change.Add(List(globals, io));
        change.Add(Approve(globals, io));
        change.Add(Rollout(globals, io));
        change.Add(Watch(globals, io));
        change.Add(Halt(globals, io));
        change.Add(Simple("resume", "Run the failed targets again, then the remaining batches", (c, r, ct) => c.Client.Changes.ResumeChangeAsync(r, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct), globals, io));
        change.Add(Simple("rollback", "Run the undo scripts, newest version first, on every target that applied the change", (c, r, ct) => c.Client.Changes.RollbackChangeAsync(r, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct), globals, io));
        change.Add(Tag(globals, io));
    }

    private static Argument<string> Id() => new("CHANGE") { Description = "The change id (as submit printed it)" };

    private static Option<bool> Wait() => new("--wait") { Description = "Follow the change until it settles; exit 1 if it halts" };

    private static Command Submit(GlobalOptions globals, CliIo io)
    {
        var directory = new Argument<string>("DIR") { Description = "Directory of V<version>__<name>.sql (and U<version>__<name>.sql) files: the tier's whole set" };
        var tier = Fleet.FleetArguments.Tier("The tier whose schemas the change targets");
        var description = new Option<string>("--description", "-m") { Description = "What the change does and why", Required = true };
        var id = new Option<string>("--id") { Description = "Change id (default: <tier>-<utc time>-<random>)" };
        var command = new Command("submit", "Upload a migration set as a change: the control plane lints it and plans it against every target of the tier") { tier, directory, description, id };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var dir = parsed.GetRequiredValue(directory);
            if (!Directory.Exists(dir))
            {
                await io.Error.WriteLineAsync($"error: directory '{dir}' does not exist").ConfigureAwait(false);
                return ExitCodes.Usage;
            }
            var request = new SubmitChangeRequest
            {
                Environment = context.Environment, Tier = parsed.GetRequiredValue(tier), Description = parsed.GetRequiredValue(description), ChangeId = parsed.GetValue(id) ?? "",
            };
            foreach (var path in Directory.EnumerateFiles(dir, "*.sql").Order(StringComparer.Ordinal))
            {
                request.Files.Add(new MigrationFile { Name = Path.GetFileName(path), Content = ByteString.CopyFrom(await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false)) });
            }
            var change = await context.Client.Changes.SubmitChangeAsync(request, deadline: DateTime.UtcNow + SubmitTimeout, cancellationToken: ct).ConfigureAwait(false);
            await PrintAsync(context, change, plan: true).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show(string name, string description, bool plan, GlobalOptions globals, CliIo io)
    {
        var id = Id();
        var command = new Command(name, description) { id };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var change = await context.Client.Changes.GetChangeAsync(new ChangeRequest { Environment = context.Environment, ChangeId = parsed.GetRequiredValue(id) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            await PrintAsync(context, change, plan).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List(GlobalOptions globals, CliIo io)
    {
        var tier = Fleet.FleetArguments.OptionalTier("Only this tier's changes");
        var command = new Command("list", "Every change (of one tier, or of all): phase, author, versions, targets by state") { tier };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var response = await context.Client.Changes.ListChangesAsync(new ListChangesRequest { Environment = context.Environment, Tier = parsed.GetValue(tier) ?? "" },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            else io.Console.Write(ChangeRendering.List(response));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Approve(GlobalOptions globals, CliIo io)
    {
        var id = Id();
        var waiver = new Option<string>("--waiver") { Description = "Required when the change has lint errors: why rolling it out is safe anyway (audited)" };
        var command = new Command("approve", "Approve a change (an operator other than its author)") { id, waiver };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var change = await context.Client.Changes.ApproveChangeAsync(new ApproveChangeRequest
            {
                Environment = context.Environment, ChangeId = parsed.GetRequiredValue(id), Waiver = parsed.GetValue(waiver) ?? "",
            }, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            await PrintAsync(context, change, plan: false).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Rollout(GlobalOptions globals, CliIo io)
    {
        var id = Id();
        var canary = new Option<int?>("--canary") { Description = "Targets in the first batch (default 1)" };
        var batch = new Option<int?>("--batch-size") { Description = "Targets per batch after the canaries (default 10)" };
        var pause = new Option<double?>("--pause") { Description = "Seconds between batches (default 5)" };
        var concurrency = new Option<int?>("--concurrency") { Description = "Targets at once within a batch (default 4)" };
        var lockTimeout = new Option<double?>("--lock-timeout") { Description = "Seconds a statement may wait for a lock (default 5)" };
        var statementTimeout = new Option<double?>("--statement-timeout") { Description = "Seconds a statement may run (default 600)" };
        var wait = Wait();
        var command = new Command("rollout", "Roll an approved change out: canary targets, then batches, a pause and a tier health check between them")
        {
            id, canary, batch, pause, concurrency, lockTimeout, statementTimeout, wait,
        };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var request = new RolloutChangeRequest { Environment = context.Environment, ChangeId = parsed.GetRequiredValue(id) };
            if (parsed.GetValue(canary) is { } c) request.CanaryTargets = c;
            if (parsed.GetValue(batch) is { } b) request.BatchSize = b;
            if (parsed.GetValue(concurrency) is { } n) request.Concurrency = n;
            if (parsed.GetValue(pause) is { } p) request.Pause = Seconds(p);
            if (parsed.GetValue(lockTimeout) is { } l) request.LockTimeout = Seconds(l);
            if (parsed.GetValue(statementTimeout) is { } s) request.StatementTimeout = Seconds(s);
            var change = await context.Client.Changes.RolloutChangeAsync(request, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await AfterAsync(context, change, parsed.GetValue(wait), ct).ConfigureAwait(false);
        });
        return command;
    }

    private static Command Watch(GlobalOptions globals, CliIo io)
    {
        var id = Id();
        var command = new Command("watch", "Stream the change (now, then every update) until it settles; exit 0 completed or rolled back, 1 halted") { id };
        CommandRunner.SetHandler(command, globals, io, (context, parsed, ct) => FollowAsync(context, parsed.GetRequiredValue(id), ct), exitCodeWhenInterrupted: ExitCodes.Ok);
        return command;
    }

    private static Command Halt(GlobalOptions globals, CliIo io)
    {
        var id = Id();
        var reason = new Option<string>("--reason") { Description = "Why (kept in the change's history and the audit log)", Required = true };
        var command = new Command("halt", "Stop a running rollout or rollback after the batch in flight") { id, reason };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var change = await context.Client.Changes.HaltChangeAsync(new HaltChangeRequest
            {
                Environment = context.Environment, ChangeId = parsed.GetRequiredValue(id), Reason = parsed.GetRequiredValue(reason),
            }, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            await PrintAsync(context, change, plan: false).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Tag(GlobalOptions globals, CliIo io)
    {
        var id = Id();
        var tag = new Argument<string>("TAG") { Description = "A name for the schema version the completed change brought (unique per tier)" };
        var command = new Command("tag", "Name the schema version a completed change brought") { id, tag };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var change = await context.Client.Changes.TagChangeAsync(new TagChangeRequest
            {
                Environment = context.Environment, ChangeId = parsed.GetRequiredValue(id), Tag = parsed.GetRequiredValue(tag),
            }, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            await PrintAsync(context, change, plan: false).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Simple(string name, string description, Func<CommandContext, ChangeRequest, CancellationToken, AsyncUnaryCall<ChangeInfo>> call, GlobalOptions globals, CliIo io)
    {
        var id = Id();
        var wait = Wait();
        var command = new Command(name, description) { id, wait };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var change = await call(context, new ChangeRequest { Environment = context.Environment, ChangeId = parsed.GetRequiredValue(id) }, ct).ConfigureAwait(false);
            return await AfterAsync(context, change, parsed.GetValue(wait), ct).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> AfterAsync(CommandContext context, ChangeInfo change, bool wait, CancellationToken ct)
    {
        if (wait) return await FollowAsync(context, change.ChangeId, ct).ConfigureAwait(false);
        await PrintAsync(context, change, plan: false).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    private static async Task<int> FollowAsync(CommandContext context, string id, CancellationToken ct)
    {
        using var call = context.Client.Changes.WatchChange(new ChangeRequest { Environment = context.Environment, ChangeId = id }, cancellationToken: ct);
        await foreach (var change in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
        {
            if (context.Json) await JsonOutput.WriteAsync(context.Io.Out, change).ConfigureAwait(false);
            else context.Io.Console.MarkupLine(ChangeRendering.WatchLine(change));
            if (change.Phase is ChangePhase.Completed or ChangePhase.RolledBack) return ExitCodes.Ok;
            if (change.Phase == ChangePhase.Halted)
            {
                await context.Io.Error.WriteLineAsync($"error: change {id} halted: {change.HaltReason}").ConfigureAwait(false);
                return ExitCodes.Refused;
            }
        }
        await context.Io.Error.WriteLineAsync("watch: the control plane closed the stream").ConfigureAwait(false);
        return ExitCodes.Unreachable;
    }

    private static async Task PrintAsync(CommandContext context, ChangeInfo change, bool plan)
    {
        if (context.Json) await JsonOutput.WriteAsync(context.Io.Out, change).ConfigureAwait(false);
        else context.Io.Console.Write(ChangeRendering.Change(change, plan));
    }

    private static Duration Seconds(double seconds) => Duration.FromTimeSpan(TimeSpan.FromSeconds(seconds));
}
