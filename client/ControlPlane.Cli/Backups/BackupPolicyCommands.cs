using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Backups;

/// <summary><c>cpctl backup policy TIER [options]</c>, <c>cpctl backup retention TIER [--dry-run]</c>, <c>cpctl backup decisions TIER</c>.</summary>
internal static class BackupPolicyCommands
{
    public static Command Policy(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose backup policy to show or change");
        var options = new PolicyOptions();
        var command = new Command("policy", "Show the tier's backup policy, or change the fields given (the others keep their value)") { tier };
        options.AddTo(command);
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var name = parsed.GetRequiredValue(tier);
            var policy = options.Patch(parsed) is { } patch
                ? await context.Client.Backups.SetBackupPolicyAsync(
                    new SetBackupPolicyRequest { Environment = context.Environment, Tier = name, Policy = patch },
                    deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false)
                : await context.Client.Backups.GetBackupPolicyAsync(
                    new GetBackupPolicyRequest { Environment = context.Environment, Tier = name },
                    deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await BackupOutput.ShowAsync(context, policy, () => BackupRendering.Policy(policy)).ConfigureAwait(false);
        });
        return command;
    }

    public static Command Retention(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose retention to apply");
        var dryRun = new Option<bool>("--dry-run") { Description = "Only show what retention would delete" };
        var command = new Command("retention", "Apply retention now: delete what the policy no longer needs (never the newest verified backup)") { tier, dryRun };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var name = parsed.GetRequiredValue(tier);
            var decision = await context.Client.Backups.ApplyRetentionAsync(
                new ApplyRetentionRequest { Environment = context.Environment, Tier = name, DryRun = parsed.GetValue(dryRun) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            await BackupOutput.ShowAsync(context, decision, () => RecoveryRendering.Decision(decision)).ConfigureAwait(false);
            if (decision.Error.Length == 0) return ExitCodes.Ok;
            // The decision is recorded, but carrying it out failed part way: scripts must notice.
            await io.Error.WriteLineAsync($"error: retention of tier {name} failed: {decision.Error}").ConfigureAwait(false);
            return ExitCodes.Refused;
        });
        return command;
    }

    public static Command Decisions(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose retention decisions to list");
        var limit = BackupArguments.Limit("decisions");
        var command = new Command("decisions", "The tier's retention decisions: what was deleted, why, and what it freed") { tier, limit };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var name = parsed.GetRequiredValue(tier);
            var response = await context.Client.Backups.ListRetentionDecisionsAsync(
                new ListRetentionDecisionsRequest { Environment = context.Environment, Tier = name, Limit = parsed.GetValue(limit) ?? 20 },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            return await BackupOutput.ShowAsync(context, response, () => RecoveryRendering.Decisions(name, response)).ConfigureAwait(false);
        });
        return command;
    }
}
