using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Protos.V1;
using Google.Protobuf.WellKnownTypes;

namespace ControlPlane.Cli.Security;

/// <summary><c>cpctl token create|list|revoke</c>: bearer tokens, for admins.</summary>
internal static class TokenCommand
{
    public static Command Create(GlobalOptions globals, CliIo io)
    {
        var command = new Command("token", "Create, list and revoke bearer tokens (admin)");
        command.Add(CreateCommand(globals, io));
        command.Add(ListCommand(globals, io));
        command.Add(RevokeCommand(globals, io));
        return command;
    }

    private static Command CreateCommand(GlobalOptions globals, CliIo io)
    {
        var name = SecurityArguments.Name("NAME", "Who or what the token is for (e.g. billing-service, alice)");
        var role = new Option<string>("--role") { Description = "viewer, operator or admin", Required = true, HelpName = "ROLE" };
        role.AcceptOnlyFromAmong(SecurityArguments.RoleNames);
        var tenants = SecurityArguments.Tenants();
        var expiresIn = SecurityArguments.Duration("--expires-in", "Lifetime (e.g. 12h, 30d); without it the token does not expire");
        var command = new Command("create", "Create a token; prints it once (stdout), it cannot be shown again") { name, role, tenants, expiresIn };

        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var request = new CreateTokenRequest
            {
                Name = parsed.GetRequiredValue(name),
                Role = ToRole(parsed.GetRequiredValue(role)),
            };
            request.Tenants.AddRange(parsed.GetValue(tenants) ?? []);
            if (SecurityArguments.ParseDuration(parsed.GetValue(expiresIn)) is { } lifetime)
                request.ExpiresIn = Duration.FromTimeSpan(lifetime);

            var response = await context.Client.Security.CreateTokenAsync(
                request, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json)
            {
                // The one place a token is printed: creating it is the point.
                await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
                return ExitCodes.Ok;
            }
            await io.Out.WriteLineAsync(response.Token).ConfigureAwait(false);
            await io.Error.WriteLineAsync(
                $"Created token '{response.Info.Name}' (id {response.Info.Id}, {SecurityRendering.Describe(response.Info)}). "
                + "Store it now: it is not shown again.").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command ListCommand(GlobalOptions globals, CliIo io)
    {
        var all = new Option<bool>("--all") { Description = "Include revoked and expired tokens" };
        var command = new Command("list", "Every token: id, name, role, tenants, created, expires, revoked (never the secret)") { all };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var response = await context.Client.Security.ListTokensAsync(
                new ListTokensRequest { IncludeInactive = parsed.GetValue(all) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            else io.Console.Write(SecurityRendering.Tokens(response));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command RevokeCommand(GlobalOptions globals, CliIo io)
    {
        var id = new Argument<string>("ID") { Description = "The token's id (16 hex digits, from 'cpctl token list')" };
        var command = new Command("revoke", "Revoke a token: every call with it is refused from now on") { id };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var info = await context.Client.Security.RevokeTokenAsync(
                new RevokeTokenRequest { Id = parsed.GetRequiredValue(id) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, info).ConfigureAwait(false);
            else await io.Out.WriteLineAsync($"Revoked token '{info.Name}' ({info.Id}) at {info.RevokedAt?.ToDateTimeOffset():u}.").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Role ToRole(string name) => name switch
    {
        "viewer" => Role.Viewer,
        "operator" => Role.Operator,
        _ => Role.Admin,
    };
}
