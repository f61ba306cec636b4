using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Hardening;

/// <summary>
/// <c>cpctl audit-security TIER [--replica R] [--last] [--all]</c>: the tier's hardening audit, run now (or the last
/// one with <c>--last</c>). Exit 1 when a check of severity high fails, so a pipeline can gate on it.
/// </summary>
internal static class AuditSecurityCommand
{
    public static Command Create(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier to audit");
        var replica = new Option<string?>("--replica") { Description = "Audit only this replica of the tier", HelpName = "R" };
        replica.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is { } value && Names.Check(value, "--replica") is { } error) r.AddError(error);
        });
        var last = new Option<bool>("--last") { Description = "Show the last stored audit and the score trend instead of auditing now" };
        var all = new Option<bool>("--all") { Description = "List every check, not only those that fail, are unknown or accepted" };
        var command = new Command("audit-security",
            "CIS/STIG-style hardening audit of every replica of a tier over SQL: checks, score, trend; exit 1 when a high-severity check fails")
        {
            tier, replica, last, all,
        };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var client = new HardeningService.HardeningServiceClient(context.Client.CallInvoker);
            SecurityAudit audit;
            if (parsed.GetValue(last))
            {
                var history = await client.GetSecurityAuditAsync(
                    new GetSecurityAuditRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier) },
                    deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
                audit = history.Last;
                if (context.Json) await JsonOutput.WriteAsync(io.Out, history).ConfigureAwait(false);
                else await io.Out.WriteAsync(HardeningRendering.Audit(audit, parsed.GetValue(all)) + HardeningRendering.Trend(history.Trend)).ConfigureAwait(false);
            }
            else
            {
                // An audit reads every replica one after the other, each with its own deadline: allow a minute.
                audit = await client.AuditSecurityAsync(
                    new AuditSecurityRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier), Replica = parsed.GetValue(replica) ?? "" },
                    deadline: DateTime.UtcNow.AddMinutes(1), cancellationToken: ct).ConfigureAwait(false);
                if (context.Json) await JsonOutput.WriteAsync(io.Out, audit).ConfigureAwait(false);
                else await io.Out.WriteAsync(HardeningRendering.Audit(audit, parsed.GetValue(all))).ConfigureAwait(false);
            }
            return audit.FailedHigh > 0 ? ExitCodes.Refused : ExitCodes.Ok;
        });
        return command;
    }
}
