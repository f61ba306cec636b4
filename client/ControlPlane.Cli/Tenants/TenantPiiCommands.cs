using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Pools;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Tenants;

/// <summary><c>cpctl tenant pii declare|list|suggest</c> and <c>cpctl tenant anonymise</c> (docs/tenants.md, GDPR).</summary>
internal static class TenantPiiCommands
{
    public static Command Pii(GlobalOptions globals, CliIo io)
    {
        var command = new Command("pii", "The personal-data catalog: columns of the tenants' tables that anonymise replaces");
        command.Add(Declare(globals, io));
        command.Add(List(globals, io));
        command.Add(Suggest(globals, io));
        return command;
    }

    public static Command Anonymise(GlobalOptions globals, CliIo io)
    {
        var name = PoolArguments.Name("TENANT", "The tenant to anonymise");
        var confirm = new Option<string>("--confirm") { Description = "The tenant's name again: pseudonyms cannot be turned back", Required = true };
        var columns = new Option<string[]>("--column")
        {
            Description = "Only this declared column, TIER:TABLE.COLUMN; repeat for several (default: every declared column of the tenant's tiers)",
            AllowMultipleArgumentsPerToken = true,
        };
        var command = new Command("anonymise", "Replace the tenant's values in every declared personal-data column with pseudonyms; prints the verified report")
        {
            name, confirm, columns,
        };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var request = new TenantAnonymiseRequest { Environment = context.Environment, Tenant = parsed.GetRequiredValue(name), Confirm = parsed.GetRequiredValue(confirm) };
            request.Columns.AddRange(parsed.GetValue(columns) ?? []);
            var tenant = await context.Client.Tenants.AnonymiseTenantAsync(request, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, tenant).ConfigureAwait(false);
            else io.Console.Write(TenantRendering.Anonymised(tenant.AnonymiseReport));
            return tenant.AnonymiseReport?.Verified == true ? ExitCodes.Ok : ExitCodes.Refused;
        });
        return command;
    }

    private static Command Declare(GlobalOptions globals, CliIo io)
    {
        var tier = Fleet.FleetArguments.Tier("The tier whose tenant tables hold the column");
        var table = new Argument<string>("TABLE") { Description = "The table's name (in each tenant schema, or in tenant_shared)" };
        var column = new Argument<string>("COLUMN") { Description = "The column holding personal data" };
        var kind = new Option<string>("--kind") { Description = "email, name, phone, address, ip, birthdate or text", Required = true };
        var command = new Command("declare", "Declare a column as personal data (checked on the tier: a tenant table has it, its type fits the kind)") { tier, table, column, kind };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var declared = await context.Client.Tenants.DeclarePiiColumnAsync(new PiiDeclareRequest
            {
                Environment = context.Environment, Tier = parsed.GetRequiredValue(tier), Table = parsed.GetRequiredValue(table),
                Column = parsed.GetRequiredValue(column), Kind = parsed.GetRequiredValue(kind),
            }, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, declared).ConfigureAwait(false);
            else io.Console.Write(new Spectre.Console.Text($"declared {declared.Tier}:{declared.Table}.{declared.Column} as {declared.Kind}\n"));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List(GlobalOptions globals, CliIo io)
    {
        var tier = new Option<string>("--tier") { Description = "Only this tier's columns" };
        var command = new Command("list", "The declared personal-data columns") { tier };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var response = await context.Client.Tenants.ListPiiColumnsAsync(new PiiListRequest { Environment = context.Environment, Tier = parsed.GetValue(tier) ?? "" },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            else io.Console.Write(TenantRendering.PiiColumns(response));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Suggest(GlobalOptions globals, CliIo io)
    {
        var tier = Fleet.FleetArguments.Tier("The tier whose tenant tables are read");
        var command = new Command("suggest", "Columns of the tier's tenant tables that look personal and are not declared; a reviewer declares the real ones") { tier };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var response = await context.Client.Tenants.SuggestPiiColumnsAsync(new PiiSuggestRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            else io.Console.Write(TenantRendering.PiiSuggestions(response));
            return ExitCodes.Ok;
        });
        return command;
    }
}
