using System.CommandLine;
using ControlPlane.Bench.Common;
using ControlPlane.Client;
using ControlPlane.Client.Security;

namespace ControlPlane.Bench.Pools;

/// <summary>
/// <c>pools alloc|lease|overhead</c>: the allocator alone (pure), lease acquire+renew through the gateway, and a query
/// through ControlPlaneDataSource against plain Npgsql on the same server in the same run.
/// </summary>
public static class PoolsCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var command = new Command("pools", "Pool benchmarks: allocation time, lease throughput, data source overhead.");
        command.Add(Alloc(stdout));
        command.Add(Lease(stdout, stderr));
        command.Add(Overhead(stdout, stderr));
        return command;
    }

    private static Command Alloc(TextWriter stdout)
    {
        var tenants = new Option<int>("--tenants") { Description = "Tenants on the tier", DefaultValueFactory = _ => 10_000 };
        var capacity = new Option<int>("--capacity") { Description = "Connections to share", DefaultValueFactory = _ => 5_000 };
        var iterations = new Option<int>("--iterations") { Description = "Measured allocations", DefaultValueFactory = _ => 200 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("alloc", "PoolAllocator.Allocate over many tenants (pure, no server)") { tenants, capacity, iterations, json };
        command.SetAction(async (parsed, ct) =>
        {
            var result = PoolsRuns.Allocation(parsed.GetValue(tenants), parsed.GetValue(capacity), parsed.GetValue(iterations));
            await stdout.WriteLineAsync(parsed.GetValue(json) ? JsonReport.Serialize(result) : result.Render());
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Lease(TextWriter stdout, TextWriter stderr)
    {
        var (endpoint, tokenFile) = (EndpointOption(), TokenFileOption());
        var tier = new Option<string>("--tier") { DefaultValueFactory = _ => "queue" };
        var tenant = new Option<string>("--tenant") { DefaultValueFactory = _ => "acme" };
        var concurrency = new Option<int>("--concurrency") { Description = "Concurrent callers", DefaultValueFactory = _ => 4 };
        var duration = DurationArgument.Option("--duration", TimeSpan.FromSeconds(15), "Measured time");
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("lease", "Closed-loop acquire, renew, release cycles through the gateway") { endpoint, tokenFile, tier, tenant, concurrency, duration, json };
        command.SetAction(async (parsed, ct) =>
        {
            using var client = Connect(parsed.GetValue(endpoint), parsed.GetValue(tokenFile));
            var result = await PoolsRuns.LeasesAsync(client, parsed.GetValue(tier)!, parsed.GetValue(tenant)!, parsed.GetValue(concurrency), parsed.GetValue(duration), ct);
            await stdout.WriteLineAsync(parsed.GetValue(json) ? JsonReport.Serialize(result) : result.Render());
            return result.Errors == 0 ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }

    private static Command Overhead(TextWriter stdout, TextWriter stderr)
    {
        var (endpoint, tokenFile) = (EndpointOption(), TokenFileOption());
        var tier = new Option<string>("--tier") { DefaultValueFactory = _ => "queue" };
        var tenant = new Option<string>("--tenant") { DefaultValueFactory = _ => "acme" };
        var passwordFile = new Option<string>("--password-file") { Description = "The database user's password file (local fleet: .controlplane/secrets/TIER.superuser)", Required = true };
        var user = new Option<string>("--user") { DefaultValueFactory = _ => "postgres" };
        var queries = new Option<int>("--queries") { Description = "Queries per side (alternating rounds)", DefaultValueFactory = _ => 20_000 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON" };
        var command = new Command("overhead", "SELECT 1 through ControlPlaneDataSource vs plain Npgsql on the same primary, same run")
        {
            endpoint, tokenFile, tier, tenant, passwordFile, user, queries, json,
        };
        command.SetAction(async (parsed, ct) =>
        {
            using var client = Connect(parsed.GetValue(endpoint), parsed.GetValue(tokenFile));
            var result = await PoolsRuns.OverheadAsync(client, parsed.GetValue(tier)!, parsed.GetValue(tenant)!, parsed.GetValue(user)!,
                ControlPlane.Postgres.Instances.SecretFile.Read(parsed.GetValue(passwordFile)!), parsed.GetValue(queries), ct);
            await stdout.WriteLineAsync(parsed.GetValue(json) ? JsonReport.Serialize(result) : result.Render());
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Option<string?> EndpointOption() => new("--endpoint") { Description = "gRPC endpoint", HelpName = "URL" };

    private static Option<string?> TokenFileOption() => new("--token-file") { Description = "Bearer token file (e.g. .controlplane/admin.token)" };

    private static ControlPlaneClient Connect(string? endpoint, string? tokenFile) =>
        new(ControlPlaneEndpoint.Resolve(endpoint), new ControlPlaneClientOptions { Token = ControlPlaneToken.Resolve(null, tokenFile)?.Token });
}
