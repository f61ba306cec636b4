using System.CommandLine;
using System.CommandLine.Invocation;
using ControlPlane.Bench.Failover;
using ControlPlane.Bench.Fleet;

namespace ControlPlane.Bench;

/// <summary>The benchmark tool: one subcommand per benchmark; results as a table, or JSON for scripts.</summary>
public static class BenchApp
{
    /// <summary>Parses <paramref name="args"/>, runs one benchmark and returns its exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(args);
        var root = new RootCommand("Benchmarks of the ControlPlane: gRPC query load, silo cold start, failover, pools, backups and the migration lint.")
        {
            GetTierCommand.Create(stdout, stderr),
            ColdStartCommand.Create(stdout, stderr),
            FailoverCommand.Create(stdout, stderr),
            Anchors.AnchorsCommand.Create(stdout, stderr),
            Pools.PoolsCommand.Create(stdout, stderr),
            Backups.BackupsCommand.Create(stdout, stderr),
            Backups.ArchiveRpoCommand.Create(stdout, stderr),
            Migrations.LintCommand.Create(stdout, stderr),
            Changes.RolloutCommand.Create(stdout, stderr),
            Changes.ChangeServiceCommand.Create(stdout, stderr),
            Changes.IndexAvailabilityCommand.Create(stdout, stderr),
            Catalog.CatalogLossCommand.Create(stdout, stderr),
            Parity.ParityCommand.Create(stdout, stderr),
            Consistency.ConsistencyCommand.Create(stdout, stderr),
            Capacity.ForecastCommand.Create(stdout, stderr),
            Monitoring.SamplingCommand.Create(stdout, stderr),
            Monitoring.AlertEvaluationCommand.Create(stdout, stderr),
            Tenants.PseudonymCommand.Create(stdout, stderr),
            Tenants.IsolationAuditCommand.Create(stdout, stderr),
            Watchers.WatchersCommand.Create(stdout, stderr),
        };
        var parsed = root.Parse(args);
        if (parsed.Action is ParseErrorAction)
        {
            foreach (var error in parsed.Errors) await stderr.WriteLineAsync($"error: {error.Message}");
            await stderr.WriteLineAsync("Run with --help for usage.");
            return ExitCodes.Usage;
        }
        var invocation = new InvocationConfiguration { Output = stdout, Error = stderr, ProcessTerminationTimeout = null };
        return await parsed.InvokeAsync(invocation, ct);
    }
}
