using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;

namespace ControlPlane.Cli.Security;

/// <summary><c>cpctl audit</c>: the audit log, newest first (admin).</summary>
internal static class AuditCommand
{
    public static Command Create(GlobalOptions globals, CliIo io)
    {
        var since = SecurityArguments.Duration("--since", "Only events of the last DURATION (e.g. 1h, 7d)");
        var principal = new Option<string?>("--principal") { Description = "Only events of this principal (as listed, e.g. 'ci (token 0123...)')", HelpName = "P" };
        var target = new Option<string?>("--target") { Description = "Only events on this target (local/oltp), or under a prefix ending in '/'", HelpName = "T" };
        var outcome = new Option<string?>("--outcome") { Description = "ok, denied or failed", HelpName = "OUTCOME" };
        outcome.AcceptOnlyFromAmong("ok", "denied", "failed");
        var limit = new Option<int>("--limit") { Description = "At most this many events (default 50)", DefaultValueFactory = _ => 50, HelpName = "N" };
        limit.Validators.Add(r =>
        {
            if (Names.ParsedInt(r) is < 1 or > 100_000) r.AddError("--limit: expected 1 to 100000");
        });
        var command = new Command("audit", "The audit log: mutating calls, denials and the control plane's own decisions, newest first")
        {
            since, principal, target, outcome, limit,
        };

        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var request = new ListAuditEventsRequest
            {
                Principal = parsed.GetValue(principal) ?? "",
                Target = parsed.GetValue(target) ?? "",
                Outcome = parsed.GetValue(outcome) ?? "",
            };
            if (SecurityArguments.ParseDuration(parsed.GetValue(since)) is { } window)
                request.Since = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow - window);
            var wanted = parsed.GetValue(limit);
            var all = new ListAuditEventsResponse();
            do
            {
                request.PageSize = Math.Min(1000, wanted - all.Events.Count);
                var page = await context.Client.Security.ListAuditEventsAsync(
                    request, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
                all.Events.AddRange(page.Events);
                request.PageToken = page.NextPageToken;
                all.NextPageToken = page.NextPageToken;
            }
            while (request.PageToken.Length > 0 && all.Events.Count < wanted);

            if (context.Json) await JsonOutput.WriteAsync(io.Out, all).ConfigureAwait(false);
            else io.Console.Write(SecurityRendering.Audit(all));
            return ExitCodes.Ok;
        });
        return command;
    }
}
