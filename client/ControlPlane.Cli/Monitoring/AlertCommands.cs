using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;

namespace ControlPlane.Cli.Monitoring;

/// <summary><c>cpctl alerts [--watch]</c> and <c>cpctl alert rules|rule|silence|silences|unsilence|history|webhook</c>.</summary>
internal static class AlertCommands
{
    public static Command Alerts(GlobalOptions globals, CliIo io)
    {
        var watch = new Option<bool>("--watch") { Description = "Print the active alerts, then every fired/resolved event as it happens, until Ctrl-C" };
        var command = new Command("alerts", "The firing and pending alerts of the environment") { watch };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            if (!parsed.GetValue(watch))
            {
                var list = await context.Client.Alerts.ListAlertsAsync(new ListAlertsRequest { Environment = context.Environment },
                    deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
                if (context.Json) await JsonOutput.WriteAsync(io.Out, list).ConfigureAwait(false);
                else await io.Out.WriteAsync(MonitoringRendering.Alerts(list)).ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            using var call = context.Client.Alerts.WatchAlerts(new WatchAlertsRequest { Environment = context.Environment }, cancellationToken: ct);
            while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
            {
                if (context.Json) await JsonOutput.WriteAsync(io.Out, call.ResponseStream.Current).ConfigureAwait(false);
                else await io.Out.WriteLineAsync(MonitoringRendering.Event(call.ResponseStream.Current)).ConfigureAwait(false);
            }
            return ExitCodes.Ok;
        }, exitCodeWhenInterrupted: ExitCodes.Ok);
        return command;
    }

    public static Command Alert(GlobalOptions globals, CliIo io)
    {
        var alert = new Command("alert", "Alert rules, silences, history and the webhook");
        alert.Add(Rules(globals, io));
        alert.Add(Rule(globals, io));
        alert.Add(Silence(globals, io));
        alert.Add(Silences(globals, io));
        alert.Add(Unsilence(globals, io));
        alert.Add(History(globals, io));
        alert.Add(Webhook(globals, io));
        return alert;
    }

    private static Command Rules(GlobalOptions globals, CliIo io)
    {
        var command = new Command("rules", "Every rule in force: the defaults and the environment's own");
        CommandRunner.SetHandler(command, globals, io, async (context, _, ct) =>
        {
            var rules = await context.Client.Alerts.ListAlertRulesAsync(new ListAlertRulesRequest { Environment = context.Environment },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, rules).ConfigureAwait(false);
            else await io.Out.WriteAsync(MonitoringRendering.Rules(rules)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary><c>cpctl alert rule NAME 'metric OP threshold' --for 1m --severity critical --label k=v --runbook URL</c>, or <c>--delete</c>.</summary>
    private static Command Rule(GlobalOptions globals, CliIo io)
    {
        var name = new Argument<string>("NAME") { Description = "The rule's name (a default's name overrides it)" };
        var expression = new Argument<string?>("EXPRESSION") { Description = "'metric OP threshold', OP one of > >= < <=", Arity = ArgumentArity.ZeroOrOne };
        var @for = new Option<string>("--for") { Description = "How long the condition must hold before firing (e.g. 30s, 5m)", DefaultValueFactory = _ => "0s" };
        var severity = new Option<string>("--severity") { Description = "info, warning or critical", DefaultValueFactory = _ => "warning" };
        var labels = new Option<string[]>("--label") { Description = "A label name=value added to the alert (repeatable)", AllowMultipleArgumentsPerToken = false };
        var runbook = new Option<string>("--runbook") { Description = "Runbook URL", DefaultValueFactory = _ => "" };
        var summary = new Option<string>("--summary") { Description = "One line saying what is wrong", DefaultValueFactory = _ => "" };
        var disabled = new Option<bool>("--disabled") { Description = "Store the rule disabled (turns a default off)" };
        var delete = new Option<bool>("--delete") { Description = "Remove the environment's own rule of this name" };
        DurationArgument.Validate(@for);
        DurationArgument.ValidatePairs(labels);
        var command = new Command("rule", "Add, replace or delete one rule") { name, expression, @for, severity, labels, runbook, summary, disabled, delete };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var ruleName = parsed.GetRequiredValue(name);
            if (parsed.GetValue(delete))
            {
                await context.Client.Alerts.DeleteAlertRuleAsync(new DeleteAlertRuleRequest { Environment = context.Environment, Name = ruleName },
                    deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
                await io.Out.WriteLineAsync($"rule {ruleName} deleted").ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            var rule = new AlertRule
            {
                Name = ruleName,
                Expression = parsed.GetValue(expression) ?? "",
                For = Duration.FromTimeSpan(DurationArgument.Parse("--for", parsed.GetValue(@for) ?? "0s")),
                Severity = parsed.GetValue(severity) ?? "warning",
                Runbook = parsed.GetValue(runbook) ?? "",
                Summary = parsed.GetValue(summary) ?? "",
                Enabled = !parsed.GetValue(disabled),
            };
            foreach (var label in parsed.GetValue(labels) ?? [])
            {
                var (key, value) = DurationArgument.Pair("--label", label);
                rule.Labels[key] = value;
            }
            var stored = await context.Client.Alerts.PutAlertRuleAsync(new PutAlertRuleRequest { Environment = context.Environment, Rule = rule },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, stored).ConfigureAwait(false);
            else await io.Out.WriteAsync(MonitoringRendering.Rules(new ListAlertRulesResponse { Rules = { stored } })).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary><c>cpctl alert silence alertname=X tier=oltp --for 2h --comment "..."</c>: a silence always ends.</summary>
    private static Command Silence(GlobalOptions globals, CliIo io)
    {
        var matchers = new Argument<string[]>("MATCHER") { Description = "name=value; alertname=RULE or a label (all must match)", Arity = ArgumentArity.OneOrMore };
        var @for = new Option<string>("--for") { Description = "How long the silence lasts (e.g. 30m, 2h; at most 30 days)", Required = true };
        var comment = new Option<string>("--comment") { Description = "Why", DefaultValueFactory = _ => "" };
        DurationArgument.Validate(@for);
        DurationArgument.ValidatePairs(matchers);
        var command = new Command("silence", "Mute notifications of matching alerts for a while") { matchers, @for, comment };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var request = new CreateSilenceRequest
            {
                Environment = context.Environment,
                Duration = Duration.FromTimeSpan(DurationArgument.Parse("--for", parsed.GetRequiredValue(@for))),
                Comment = parsed.GetValue(comment) ?? "",
            };
            foreach (var m in parsed.GetRequiredValue(matchers))
            {
                var (key, value) = DurationArgument.Pair("MATCHER", m);
                request.Matchers[key] = value;
            }
            var silence = await context.Client.Alerts.CreateSilenceAsync(request, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, silence).ConfigureAwait(false);
            else await io.Out.WriteAsync(MonitoringRendering.Silences(new ListSilencesResponse { Silences = { silence } })).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Silences(GlobalOptions globals, CliIo io)
    {
        var command = new Command("silences", "The environment's silences (ended ones are kept a day)");
        CommandRunner.SetHandler(command, globals, io, async (context, _, ct) =>
        {
            var list = await context.Client.Alerts.ListSilencesAsync(new ListSilencesRequest { Environment = context.Environment },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, list).ConfigureAwait(false);
            else await io.Out.WriteAsync(MonitoringRendering.Silences(list)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Unsilence(GlobalOptions globals, CliIo io)
    {
        var id = new Argument<string>("ID") { Description = "The silence to end now (e.g. s3)" };
        var command = new Command("unsilence", "End a silence now") { id };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var silence = await context.Client.Alerts.ExpireSilenceAsync(new ExpireSilenceRequest { Environment = context.Environment, Id = parsed.GetRequiredValue(id) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, silence).ConfigureAwait(false);
            else await io.Out.WriteLineAsync($"silence {silence.Id} ended").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command History(GlobalOptions globals, CliIo io)
    {
        var limit = new Option<int>("--limit") { Description = "How many of the newest events (1 to 500)", DefaultValueFactory = _ => 50 };
        limit.Validators.Add(r =>
        {
            if (Names.ParsedInt(r) is { } n and (< 1 or > 500)) r.AddError($"--limit {n} is out of range; expected 1 to 500.");
        });
        var command = new Command("history", "Fired and resolved events, oldest first") { limit };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var newest = await context.Client.Alerts.GetAlertHistoryAsync(new GetAlertHistoryRequest { Environment = context.Environment, AfterVersion = 0, Limit = 1 },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            var n = parsed.GetValue(limit);
            var page = await context.Client.Alerts.GetAlertHistoryAsync(
                new GetAlertHistoryRequest { Environment = context.Environment, AfterVersion = Math.Max(0, newest.LastVersion - n), Limit = n },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, page).ConfigureAwait(false);
            else foreach (var e in page.Events) await io.Out.WriteLineAsync(MonitoringRendering.Event(e)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Webhook(GlobalOptions globals, CliIo io)
    {
        var url = new Argument<string?>("URL") { Description = "http(s) URL of an Alertmanager-format receiver; '' resets; none shows", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("webhook", "Show or set the environment's alert webhook") { url };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var value = parsed.GetValue(url);
            var webhook = value is null
                ? await context.Client.Alerts.GetAlertWebhookAsync(new GetAlertWebhookRequest { Environment = context.Environment },
                    deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false)
                : await context.Client.Alerts.SetAlertWebhookAsync(new SetAlertWebhookRequest { Environment = context.Environment, Url = value },
                    deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, webhook).ConfigureAwait(false);
            else await io.Out.WriteLineAsync(webhook.Url.Length == 0 ? "no webhook" : webhook.Url).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
