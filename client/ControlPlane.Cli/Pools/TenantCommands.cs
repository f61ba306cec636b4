using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Pools;

/// <summary><c>cpctl tenant register|plan|show|list</c>.</summary>
internal static class TenantCommands
{
    public static Command Tenant(GlobalOptions globals, CliIo io)
    {
        var command = new Command("tenant", "Tenants and their pool plans (weight, min, max per tier)");
        command.Add(Register(globals, io));
        command.Add(Plan(globals, io));
        command.Add(Show(globals, io));
        command.Add(List(globals, io));
        return command;
    }

    private static Command Register(GlobalOptions globals, CliIo io)
    {
        var name = PoolArguments.Name("TENANT", "The tenant to register");
        var plans = new Option<string[]>("--plan")
        {
            Description = "TIER:WEIGHT:MIN:MAX, e.g. oltp:3:5:40; repeat for several tiers",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        plans.Validators.Add(r =>
        {
            foreach (var p in r.GetValueOrDefault<string[]>() ?? []) if (ParsePlan(p, out _) is { } error) r.AddError(error);
        });
        var command = new Command("register", "Register a tenant with its plan on one or more tiers") { name, plans };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var request = new RegisterTenantRequest { Environment = context.Environment, Tenant = parsed.GetRequiredValue(name) };
            foreach (var p in parsed.GetValue(plans) ?? []) { ParsePlan(p, out var plan); request.Plans.Add(plan); }
            var tenant = await context.Client.Pools.RegisterTenantAsync(request, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            await PrintAsync(context, tenant).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Plan(GlobalOptions globals, CliIo io)
    {
        var name = PoolArguments.Name("TENANT", "The tenant whose plan changes");
        var tier = Fleet.FleetArguments.Tier("The tier the plan is for");
        var weight = new Option<int>("--weight") { Description = "Share above the minimums (1 to 1000)", Required = true };
        var min = new Option<int>("--min") { Description = "Guaranteed connections (0 to 10000)", Required = true };
        var max = new Option<int>("--max") { Description = "Connections never exceeded (min to 10000)", Required = true };
        var command = new Command("plan", "Set a tenant's plan on one tier; live grants rebalance") { name, tier, weight, min, max };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var tenant = await context.Client.Pools.UpdateTenantPlanAsync(new UpdateTenantPlanRequest
            {
                Environment = context.Environment,
                Tenant = parsed.GetRequiredValue(name),
                Plan = new TenantPlan { Tier = parsed.GetRequiredValue(tier), Weight = parsed.GetValue(weight), Min = parsed.GetValue(min), Max = parsed.GetValue(max) },
            }, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            await PrintAsync(context, tenant).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show(GlobalOptions globals, CliIo io)
    {
        var name = PoolArguments.Name("TENANT", "The tenant to show");
        var command = new Command("show", "One tenant and its plans") { name };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var tenant = await context.Client.Pools.GetTenantAsync(new GetTenantRequest { Environment = context.Environment, Tenant = parsed.GetRequiredValue(name) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            await PrintAsync(context, tenant).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List(GlobalOptions globals, CliIo io)
    {
        var command = new Command("list", "Every tenant of the environment with its plans");
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var response = await context.Client.Pools.ListTenantsAsync(new ListTenantsRequest { Environment = context.Environment },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            else io.Console.Write(PoolRendering.TenantList(response));
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Null when <paramref name="text"/> is TIER:WEIGHT:MIN:MAX, else an error naming it.</summary>
    internal static string? ParsePlan(string text, out TenantPlan plan)
    {
        plan = new TenantPlan();
        var parts = text.Split(':');
        if (parts.Length != 4 || !Names.IsValid(parts[0])
            || !int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var w)
            || !int.TryParse(parts[2], System.Globalization.CultureInfo.InvariantCulture, out var min)
            || !int.TryParse(parts[3], System.Globalization.CultureInfo.InvariantCulture, out var max))
            return $"--plan '{text}' is invalid; expected TIER:WEIGHT:MIN:MAX, e.g. oltp:3:5:40";
        plan = new TenantPlan { Tier = parts[0], Weight = w, Min = min, Max = max };
        return null;
    }

    private static async Task PrintAsync(CommandContext context, Tenant tenant)
    {
        if (context.Json) await JsonOutput.WriteAsync(context.Io.Out, tenant).ConfigureAwait(false);
        else context.Io.Console.Write(PoolRendering.Tenant(tenant));
    }
}
