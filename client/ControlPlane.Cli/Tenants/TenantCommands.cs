using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Pools;
using ControlPlane.Protos.V1;
using Grpc.Core;
using Spectre.Console;

namespace ControlPlane.Cli.Tenants;

/// <summary><c>cpctl tenant register|plan|show|list|suspend|resume|erase|watch|probe|audit</c> (and <see cref="TenantPiiCommands"/>).</summary>
internal static class TenantCommands
{
    public static Command Tenant(GlobalOptions globals, CliIo io)
    {
        var command = new Command("tenant", "Tenants: placement, pool plans, lifecycle (register, suspend, resume, erase) and history");
        command.Add(Register(globals, io));
        command.Add(Plan(globals, io));
        command.Add(Show(globals, io));
        command.Add(List(globals, io));
        command.Add(Suspend(globals, io));
        command.Add(Resume(globals, io));
        command.Add(Erase(globals, io));
        command.Add(Watch(globals, io));
        command.Add(Probe(globals, io));
        command.Add(Audit(globals, io));
        command.Add(TenantPiiCommands.Pii(globals, io));
        command.Add(TenantPiiCommands.Anonymise(globals, io));
        return command;
    }

    private static Command Register(GlobalOptions globals, CliIo io)
    {
        var name = PoolArguments.Name("TENANT", "The tenant to register");
        var plans = new Option<string[]>("--plan")
        {
            Description = "TIER:WEIGHT:MIN:MAX, e.g. oltp:3:5:40; repeat for several tiers",
            AllowMultipleArgumentsPerToken = true,
        };
        plans.Validators.Add(r =>
        {
            foreach (var p in r.GetValueOrDefault<string[]>() ?? []) if (TenantArguments.ParsePlan(p, out _) is { } error) r.AddError(error);
        });
        var placements = new Option<string[]>("--placement")
        {
            Description = "TIER:schema (its own schema) or TIER:shared (rows of the shared tables, RLS); repeat for several tiers",
            AllowMultipleArgumentsPerToken = true,
        };
        placements.Validators.Add(r =>
        {
            foreach (var p in r.GetValueOrDefault<string[]>() ?? []) if (TenantArguments.ParsePlacement(p, out _) is { } error) r.AddError(error);
        });
        var command = new Command("register", "Register a tenant: its role and schema (or RLS policies) on each placement tier, its pool plans") { name, plans, placements };
        command.Validators.Add(r =>
        {
            if ((r.GetValue(plans) ?? []).Length == 0 && (r.GetValue(placements) ?? []).Length == 0)
                r.AddError("register needs at least one --plan or --placement");
        });
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var request = new TenantRegisterRequest { Environment = context.Environment, Tenant = parsed.GetRequiredValue(name) };
            foreach (var p in parsed.GetValue(plans) ?? []) { TenantArguments.ParsePlan(p, out var plan); request.Plans.Add(plan); }
            foreach (var p in parsed.GetValue(placements) ?? []) { TenantArguments.ParsePlacement(p, out var placement); request.Placements.Add(placement); }
            var tenant = await context.Client.Tenants.RegisterTenantAsync(request, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
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
            var tenant = parsed.GetRequiredValue(name);
            await context.Client.Pools.UpdateTenantPlanAsync(new UpdateTenantPlanRequest
            {
                Environment = context.Environment,
                Tenant = tenant,
                Plan = new TenantPlan { Tier = parsed.GetRequiredValue(tier), Weight = parsed.GetValue(weight), Min = parsed.GetValue(min), Max = parsed.GetValue(max) },
            }, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            await PrintAsync(context, await GetAsync(context, tenant, ct).ConfigureAwait(false)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Show(GlobalOptions globals, CliIo io)
    {
        var name = PoolArguments.Name("TENANT", "The tenant to show");
        var command = new Command("show", "One tenant: state, placements, plans, the operation under way or the last one, erase report, history") { name };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            await PrintAsync(context, await GetAsync(context, parsed.GetRequiredValue(name), ct).ConfigureAwait(false)).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List(GlobalOptions globals, CliIo io)
    {
        var command = new Command("list", "Every tenant of the environment: state, placements, plans");
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var response = await context.Client.Tenants.ListTenantsAsync(new TenantListRequest { Environment = context.Environment },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            else io.Console.Write(TenantRendering.List(response));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Suspend(GlobalOptions globals, CliIo io)
    {
        var name = PoolArguments.Name("TENANT", "The tenant to suspend");
        var reason = new Option<string>("--reason") { Description = "Why (kept in the tenant's history)", Required = true };
        var command = new Command("suspend", "Lock the tenant's roles (NOLOGIN), end their sessions and revoke its pool leases") { name, reason };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var tenant = await context.Client.Tenants.SuspendTenantAsync(new TenantSuspendRequest
            {
                Environment = context.Environment, Tenant = parsed.GetRequiredValue(name), Reason = parsed.GetRequiredValue(reason),
            }, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            await PrintAsync(context, tenant).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Resume(GlobalOptions globals, CliIo io)
    {
        var name = PoolArguments.Name("TENANT", "The tenant to resume");
        var command = new Command("resume", "Let a suspended tenant's roles log in again and give its plans back to the pools") { name };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var tenant = await context.Client.Tenants.ResumeTenantAsync(new TenantRequest { Environment = context.Environment, Tenant = parsed.GetRequiredValue(name) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            await PrintAsync(context, tenant).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Erase(GlobalOptions globals, CliIo io)
    {
        var name = PoolArguments.Name("TENANT", "The tenant to erase");
        var confirm = new Option<string>("--confirm") { Description = "The tenant's name again: an erase cannot be undone", Required = true };
        var command = new Command("erase", "Drop the tenant's schema or rows, policies and roles on every tier; prints the verified report") { name, confirm };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var tenant = await context.Client.Tenants.EraseTenantAsync(new TenantEraseRequest
            {
                Environment = context.Environment, Tenant = parsed.GetRequiredValue(name), Confirm = parsed.GetRequiredValue(confirm),
            }, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            await PrintAsync(context, tenant).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Probe(GlobalOptions globals, CliIo io)
    {
        var name = PoolArguments.Name("TENANT", "The tenant whose role probes the others");
        var command = new Command("probe", "Log in as the tenant's role and try to reach the other tenants of its tiers; exit 1 on any leak") { name };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var tenant = await context.Client.Tenants.ProbeTenantAsync(new TenantRequest { Environment = context.Environment, Tenant = parsed.GetRequiredValue(name) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, tenant).ConfigureAwait(false);
            else io.Console.Write(TenantRendering.Probe(tenant.Probe));
            return tenant.Probe.Leaks == 0 ? ExitCodes.Ok : ExitCodes.Refused;
        });
        return command;
    }

    private static Command Audit(GlobalOptions globals, CliIo io)
    {
        var tier = Fleet.FleetArguments.Tier("The tier whose catalog is audited");
        var tenant = new Option<string>("--tenant") { Description = "Only the findings concerning this tenant (its own and the tier-wide ones)" };
        tenant.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string>() is { } t && Names.Check(t, "--tenant") is { } error) r.AddError(error);
        });
        var command = new Command("audit", "Run the isolation audit of a tier's catalog (RLS, policies, roles, grants, views, functions); exit 1 on a critical finding") { tier, tenant };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var response = await context.Client.Tenants.AuditTenantIsolationAsync(new TenantAuditRequest
            {
                Environment = context.Environment, Tier = parsed.GetRequiredValue(tier), Tenant = parsed.GetValue(tenant) ?? "",
            }, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            else io.Console.Write(TenantRendering.Audit(response));
            return response.Critical == 0 ? ExitCodes.Ok : ExitCodes.Refused;
        });
        return command;
    }

    private static Command Watch(GlobalOptions globals, CliIo io)
    {
        var name = PoolArguments.Name("TENANT", "The tenant to watch");
        var command = new Command("watch", "Stream the tenant (now, then every change: state, step, history) until Ctrl-C") { name };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            using var call = context.Client.Tenants.WatchTenant(new TenantRequest { Environment = context.Environment, Tenant = parsed.GetRequiredValue(name) },
                cancellationToken: ct);
            await foreach (var tenant in call.ResponseStream.ReadAllAsync(ct).ConfigureAwait(false))
            {
                if (context.Json) await JsonOutput.WriteAsync(io.Out, tenant).ConfigureAwait(false);
                else io.Console.MarkupLine(TenantRendering.WatchLine(tenant));
            }
            await io.Error.WriteLineAsync("watch: the control plane closed the stream").ConfigureAwait(false);
            return ExitCodes.Unreachable;
        }, exitCodeWhenInterrupted: ExitCodes.Ok);
        return command;
    }

    private static async Task<TenantInfo> GetAsync(CommandContext context, string tenant, CancellationToken ct) =>
        await context.Client.Tenants.GetTenantAsync(new TenantRequest { Environment = context.Environment, Tenant = tenant },
            deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);

    private static async Task PrintAsync(CommandContext context, TenantInfo tenant)
    {
        if (context.Json) await JsonOutput.WriteAsync(context.Io.Out, tenant).ConfigureAwait(false);
        else context.Io.Console.Write(TenantRendering.Tenant(tenant));
    }
}
