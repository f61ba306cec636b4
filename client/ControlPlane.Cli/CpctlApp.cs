using System.CommandLine;
using System.CommandLine.Invocation;
using ControlPlane.Cli.Common;
using ControlPlane.Cli.Fleet;

namespace ControlPlane.Cli;

/// <summary>cpctl, the SRE tool of the control plane: parses, runs one command, returns its exit code.</summary>
public static class CpctlApp
{
    /// <summary>Runs cpctl with <paramref name="args"/>, writing to the given writers; returns the exit code.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);

        var io = CliIo.For(stdout, stderr);
        var root = BuildRoot(io);
        var parsed = root.Parse(args);

        if (parsed.Action is ParseErrorAction)
        {
            foreach (var error in parsed.Errors)
            {
                await stderr.WriteLineAsync($"error: {error.Message}").ConfigureAwait(false);
            }

            await stderr.WriteLineAsync("Run 'cpctl --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            // Program.Main owns Ctrl-C and cancels ct; commands decide what an interrupt means.
            ProcessTerminationTimeout = null,
        };
        return await parsed.InvokeAsync(invocation, ct).ConfigureAwait(false);
    }

    internal static RootCommand BuildRoot(CliIo io)
    {
        var globals = new GlobalOptions();
        var root = new RootCommand(
            "cpctl: query and watch the PostgreSQL fleet through the control plane's gRPC gateway.");
        globals.AddTo(root);

        root.Add(StatusCommand.Create(globals, io));
        root.Add(TierCommand.Create(globals, io));
        root.Add(ReplicaCommand.Create(globals, io));
        root.Add(WatchCommand.Create(globals, io));
        root.Add(Security.TokenCommand.Create(globals, io));
        root.Add(Security.AuditCommand.Create(globals, io));
        root.Add(Security.WhoAmICommand.Create(globals, io));
        root.Add(Failover.OperationCommands.Switchover(globals, io));
        root.Add(Failover.OperationCommands.Failover(globals, io));
        root.Add(Failover.OperationCommands.Pause(globals, io));
        root.Add(Failover.OperationCommands.Resume(globals, io));
        root.Add(Failover.OperationCommands.Operation(globals, io));
        root.Add(Failover.TierHaCommands.History(globals, io));
        root.Add(Failover.TierHaCommands.Routing(globals, io));
        root.Add(Failover.TierHaCommands.Ha(globals, io));
        root.Add(Failover.DivergenceCommands.Divergences(globals, io));
        root.Add(Tenants.TenantCommands.Tenant(globals, io));
        root.Add(Pools.PoolCommands.Lease(globals, io));
        root.Add(Pools.PoolCommands.Pool(globals, io));
        root.Add(Backups.BackupCommands.Backup(globals, io));
        root.Add(Backups.RestoreCommands.Restore(globals, io));
        root.Add(Backups.RestoreCommands.RestorePoint(globals, io));
        root.Add(Backups.DrillCommands.Drill(globals, io));
        root.Add(Backups.DrillCommands.Archive(globals, io));
        root.Add(Backups.TenantBackupCommands.TenantBackup(globals, io));
        root.Add(Catalog.CatalogCommands.Catalog(globals, io));
        root.Add(Migrations.ChangeCommands.Change(globals, io));
        root.Add(Monitoring.PerfCommand.Create(globals, io));
        root.Add(Monitoring.AlertCommands.Alerts(globals, io));
        root.Add(Monitoring.AlertCommands.Alert(globals, io));
        root.Add(Hardening.AuditSecurityCommand.Create(globals, io));
        root.Add(Sla.SlaCommand.Create(globals, io));
        root.Add(Consistency.ConsistencyCommand.Create(globals, io));
        root.Add(Verify.VerifyCommand.Create(globals, io));
        root.Add(Capacity.CapacityCommand.Create(globals, io));
        root.Add(Upgrades.UpgradeCommands.Upgrade(globals, io));
        Coverage.CoverageCommandsRegistration.AddTo(root, globals, io);
        root.Add(Parity.ParityCommands.Parity(globals, io));

        ExitCodesHelp.Install(root);
        return root;
    }
}
