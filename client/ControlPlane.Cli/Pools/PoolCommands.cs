using System.CommandLine;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;
using ControlPlane.Protos.V1;

namespace ControlPlane.Cli.Pools;

/// <summary><c>cpctl pool TIER</c>, <c>cpctl lease acquire|renew|release|list</c>.</summary>
internal static class PoolCommands
{
    public static Command Pool(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose pool budget to show");
        var command = new Command("pool", "The tier's pool budget: capacity, and per tenant grants, use, overruns and leak suspects") { tier };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var budget = await context.Client.Pools.GetPoolBudgetAsync(
                new GetPoolBudgetRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, budget).ConfigureAwait(false);
            else io.Console.Write(PoolRendering.Budget(budget));
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Lease(GlobalOptions globals, CliIo io)
    {
        var command = new Command("lease", "Pool leases: acquire, renew, release, list");
        command.Add(Acquire(globals, io));
        command.Add(ById("renew", "Extend a lease by its TTL", globals, io, (c, r, ct) => c.Client.Pools.RenewLeaseAsync(r, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ResponseAsync));
        command.Add(ById("release", "Return a lease's budget to the tier now", globals, io, (c, r, ct) => c.Client.Pools.ReleaseLeaseAsync(r, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ResponseAsync));
        command.Add(List(globals, io));
        return command;
    }

    private static Command Acquire(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier to lease connections on");
        var tenant = PoolArguments.Name("TENANT", "The tenant the pool is for");
        var service = PoolArguments.Name("SERVICE", "The service holding the pool");
        var size = new Option<int>("--size") { Description = "Connections wanted (1 to 10000)", Required = true };
        size.Validators.Add(r => { if (Names.ParsedInt(r) is { } n and (< 1 or > 10_000)) r.AddError($"--size {n} is out of range; expected 1 to 10000."); });
        var ttl = new Option<int>("--ttl") { Description = "Seconds between renewals before the lease lapses (0: the tier's default)" };
        var readOnly = new Option<bool>("--read-only") { Description = "Lease on the standbys' capacity, for reads" };
        var command = new Command("acquire", "Lease a pool size; prints the lease id and the grant") { tier, tenant, service, size, ttl, readOnly };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var lease = await context.Client.Pools.AcquireLeaseAsync(new AcquireLeaseRequest
            {
                Environment = context.Environment,
                Tier = parsed.GetRequiredValue(tier),
                Tenant = parsed.GetRequiredValue(tenant),
                Service = parsed.GetRequiredValue(service),
                Requested = parsed.GetValue(size),
                TtlSeconds = parsed.GetValue(ttl),
                Access = parsed.GetValue(readOnly) ? LeaseAccess.ReadOnly : LeaseAccess.ReadWrite,
            }, deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            await PrintAsync(context, lease).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command ById(string name, string description, GlobalOptions globals, CliIo io, Func<CommandContext, LeaseRequest, CancellationToken, Task<Lease>> call)
    {
        var id = PoolArguments.LeaseId();
        var command = new Command(name, description) { id };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var leaseId = parsed.GetRequiredValue(id);
            var lease = await call(context, new LeaseRequest { Environment = context.Environment, Tenant = PoolArguments.TenantOf(leaseId), LeaseId = leaseId }, ct).ConfigureAwait(false);
            await PrintAsync(context, lease).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List(GlobalOptions globals, CliIo io)
    {
        var tier = FleetArguments.Tier("The tier whose live leases to list");
        var command = new Command("list", "Every live lease of the tier, with its grant and connections") { tier };
        CommandRunner.SetHandler(command, globals, io, async (context, parsed, ct) =>
        {
            var response = await context.Client.Pools.ListLeasesAsync(
                new ListLeasesRequest { Environment = context.Environment, Tier = parsed.GetRequiredValue(tier) },
                deadline: CommandContext.UnaryDeadline(), cancellationToken: ct).ConfigureAwait(false);
            if (context.Json) await JsonOutput.WriteAsync(io.Out, response).ConfigureAwait(false);
            else io.Console.Write(PoolRendering.Leases(response));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task PrintAsync(CommandContext context, Lease lease)
    {
        if (context.Json) await JsonOutput.WriteAsync(context.Io.Out, lease).ConfigureAwait(false);
        else await context.Io.Out.WriteLineAsync(PoolRendering.LeaseLine(lease)).ConfigureAwait(false);
    }
}
