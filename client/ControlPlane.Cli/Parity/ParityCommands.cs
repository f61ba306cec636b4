using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Parity;

/// <summary>
/// <c>cpctl parity snapshot|history|diff|status|check</c>: schema snapshots with their history, diffs with the
/// reconcile script, and the drift check of tenant schemas against the tier's template (docs/parity.md). Like diff(1),
/// <c>diff</c> exits 1 when the schemas differ; <c>status</c> and <c>check</c> exit 1 when a tenant schema drifted.
/// </summary>
internal static class ParityCommands
{
    /// <summary>A snapshot or a diff reads the catalog of a database: a big schema takes longer than a unary call's 10 s.</summary>
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromMinutes(5);

    private const string TargetHelp = "TIER, TIER/DATABASE, TIER/DATABASE/SCHEMA or tenant:NAME[@TIER]";

    public static Command Parity(GlobalOptions globals, CliIo io)
    {
        var command = new Command("parity", "Schema snapshots and their history, diffs with the reconcile script, drift of tenant schemas from the template");
        command.Add(Snapshot(globals, io));
        command.Add(History(globals, io));
        command.Add(Diff(globals, io));
        command.Add(Status(globals, io));
        command.Add(Check(globals, io));
        return command;
    }

    private static Command Snapshot(GlobalOptions globals, CliIo io)
    {
        var target = new Argument<string>("TARGET") { Description = TargetHelp };
        var command = new Command("snapshot", "Read the target's schema now and store it in its history") { target };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var info = await Client(context).SnapshotSchemaAsync(new SnapshotSchemaRequest { Environment = context.Environment, Target = parsed.GetRequiredValue(target) },
                deadline: DateTime.UtcNow + ReadTimeout, cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, info).ConfigureAwait(false);
            else await io.Out.WriteAsync(ParityRendering.Snapshot(info)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command History(GlobalOptions globals, CliIo io)
    {
        var target = new Argument<string>("TARGET") { Description = TargetHelp };
        var limit = new Option<int>("--limit") { Description = "Snapshots to show, newest first (at most 500)", DefaultValueFactory = _ => 20, HelpName = "N" };
        var command = new Command("history", "The target's stored snapshots, newest first: when, hash, who, whether it changed") { target, limit };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var response = await Client(context).ListSnapshotsAsync(
                new ListSnapshotsRequest { Environment = context.Environment, Target = parsed.GetRequiredValue(target), PageSize = parsed.GetValue(limit) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            else await io.Out.WriteAsync(ParityRendering.History(response)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Diff(GlobalOptions globals, CliIo io)
    {
        var a = new Argument<string>("A") { Description = TargetHelp + ", or TARGET@N for stored snapshot N" };
        var b = new Argument<string>("B") { Description = "The same forms as A: what A should become" };
        var script = new Option<bool>("--script") { Description = "Print only the SQL that turns A into B (with its hazards as comments), for review or psql" };
        var command = new Command("diff", "How A differs from B, object by object; exit 1 when they differ (like diff(1))") { a, b, script };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var report = await Client(context).DiffSchemasAsync(
                new DiffSchemasRequest { Environment = context.Environment, A = parsed.GetRequiredValue(a), B = parsed.GetRequiredValue(b) },
                deadline: DateTime.UtcNow + ReadTimeout, cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, report).ConfigureAwait(false);
            else await io.Out.WriteAsync(parsed.GetValue(script) ? report.Script : ParityRendering.Diff(report)).ConfigureAwait(false);
            return report.Equal ? ExitCodes.Ok : ExitCodes.Refused;
        });
        return command;
    }

    private static Command Status(GlobalOptions globals, CliIo io)
    {
        var tier = new Argument<string?>("TIER") { Description = "Only this tier (default: every tier)", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("status", "The last drift check of each tier: template, tenant schemas that differ from it; exit 1 on drift") { tier };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var status = await Client(context).GetParityStatusAsync(new GetParityStatusRequest { Environment = context.Environment, Tier = parsed.GetValue(tier) ?? "" },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, status).ConfigureAwait(false);
            else await io.Out.WriteAsync(ParityRendering.Status(status)).ConfigureAwait(false);
            return status.Tiers.Any(t => t.Drift) ? ExitCodes.Refused : ExitCodes.Ok;
        });
        return command;
    }

    private static Command Check(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose tenant schemas to compare with its template now");
        var command = new Command("check", "Run the tier's drift check now (as the schedule does); exit 1 on drift") { tier };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var drift = await Client(context).CheckDriftAsync(new CheckDriftRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier) },
                deadline: DateTime.UtcNow + ReadTimeout, cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, drift).ConfigureAwait(false);
            else await io.Out.WriteAsync(ParityRendering.Tier(drift)).ConfigureAwait(false);
            return drift.Drift ? ExitCodes.Refused : ExitCodes.Ok;
        });
        return command;
    }

    private static ParityService.ParityServiceClient Client(CommandContext context) => new(context.Client.CallInvoker);
}
