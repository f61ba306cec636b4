using System.Globalization;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using ControlPlane.Postgres.Instances;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Backups;

/// <summary>One run of pg_receivewal against one server, from the clean-up before it to its exit.</summary>
public sealed partial class WalArchiver
{
    private const string SegmentSizeSql = "SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size'";
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The replicator's libpq password file (0600, postgres), rewritten before every run, deleted at stop.</summary>
    private string PassFile => Path.Combine(options.Repository.TierDirectory, "archiver.pgpass");

    /// <summary>
    /// Kills orphans, moves diverged WAL aside, creates the slot, starts pg_receivewal and waits for it to end.
    /// Returns why it ended on its own; cancellation stops it.
    /// </summary>
    private async Task<string> RunOnceAsync(ReplicationSource primary, string? lastFailure, Action started, CancellationToken ct)
    {
        var orphans = await WalReceiverProcess.KillOrphansAsync(PidFile, WalDirectory, ct).ConfigureAwait(false);
        if (orphans.Count > 0)
        {
            logger.LogWarning("Killed orphaned pg_receivewal {Pids} writing into {Directory} (left by an earlier run of the {Tier} archiver)",
                string.Join(", ", orphans), WalDirectory, Tier);
        }
        await WalRepositoryFiles.PrepareAsync(WalDirectory, logger, ct).ConfigureAwait(false);
        var source = await ReconcileAsync(primary.Endpoint, ct).ConfigureAwait(false);
        await BridgeGapAsync(primary.Endpoint, source, lastFailure, ct).ConfigureAwait(false);
        await SecretFile.WriteForPostgresAsync(PassFile,
            SecretFile.PgPassLine(InstanceConfig.ReplicationUser, SecretFile.Read(primary.ReplicatorPasswordFile)), ct).ConfigureAwait(false);

        var tool = _bin.Tool(WalReceiverProcess.ToolName);
        var conninfo = ConnInfo(primary.Endpoint);
        await ProcessRunner.RunCheckedAsync(
            new ProcessSpec(tool, ["--create-slot", "--if-not-exists", "--slot=" + options.SlotName, "-d", conninfo]) { AsPostgres = true, Timeout = ToolTimeout },
            ct).ConfigureAwait(false);

        using var receiver = WalReceiverProcess.Start(tool,
            ["-D", WalDirectory, "-d", conninfo, "--slot=" + options.SlotName, "--synchronous", "--no-loop", "--status-interval=1"]);
        try
        {
            await File.WriteAllTextAsync(PidFile, receiver.Pid.ToString(CultureInfo.InvariantCulture) + "\n", CancellationToken.None).ConfigureAwait(false);
            started();
            logger.LogInformation("Archiving WAL of {Tier} from {Server} ({Host}:{Port}) into {Directory} (pg_receivewal pid {Pid})",
                Tier, primary.Endpoint.Name, primary.Endpoint.Host, primary.Endpoint.Port, WalDirectory, receiver.Pid);
            var exitCode = await receiver.WaitAsync(ct).ConfigureAwait(false);
            return $"pg_receivewal exited with {exitCode.ToString(CultureInfo.InvariantCulture)}: {receiver.StderrTail()}";
        }
        finally
        {
            await receiver.StopAsync(StopGrace).ConfigureAwait(false);
            if (File.Exists(PidFile) && File.ReadAllText(PidFile).Trim() == receiver.Pid.ToString(CultureInfo.InvariantCulture)) File.Delete(PidFile);
        }
    }

    /// <summary>
    /// Makes the archive continuable from <paramref name="server"/>: checks it is a primary with our segment size,
    /// reads its timeline history and moves aside what lies past its fork points (<see cref="WalSegments.PlanDivergence"/>).
    /// </summary>
    private async Task<SourceTimeline> ReconcileAsync(ReplicaEndpoint server, CancellationToken ct)
    {
        var source = await SqlFailoverOps.ReadSourceTimelineAsync(server, ct).ConfigureAwait(false);
        await using (var connection = await AdminSql.OpenAsync(server, ct).ConfigureAwait(false))
        {
            var bytes = (long)(await AdminSql.ScalarAsync(connection, SegmentSizeSql, ct).ConfigureAwait(false))!;
            if (bytes != options.SegmentBytes)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"{server.Tier}/{server.Name} has WAL segments of {bytes} bytes; the archiver of {Tier} was configured for {options.SegmentBytes}."));
            }
        }
        var names = Directory.EnumerateFiles(WalDirectory).Select(p => Path.GetFileName(p));
        var plan = WalSegments.PlanDivergence(names, source, options.SegmentBytes);
        if (plan.Refusal is { } refusal) throw new InvalidOperationException($"Not archiving {Tier} from {server.Name}: {refusal}.");
        if (plan.MoveAside.Count == 0)
        {
            if (plan.ResumeMarker is { } atSwitch && !File.Exists(Path.Combine(WalDirectory, atSwitch)))
            {
                logger.LogInformation("The WAL archive of {Tier} ends where {Server}'s history left its timeline; resuming on the next timeline ({Marker})",
                    Tier, server.Name, atSwitch);
                await WalRepositoryFiles.CreateEmptyAsync(Path.Combine(WalDirectory, atSwitch), ct).ConfigureAwait(false);
            }
            return source;
        }
        logger.LogWarning(
            "The WAL archive of {Tier} holds WAL that {Server} (timeline {Timeline}, history {History}) never had; moving {Count} files to {Directory}: {Files} (resume marker: {Marker})",
            Tier, server.Name, source.Timeline, string.Join(", ", source.History.Select(h => $"{h.Timeline}@{h.SwitchPoint}")),
            plan.MoveAside.Count, DivergedDirectory, string.Join(", ", plan.MoveAside.Select(f => f.Name)), plan.ResumeMarker ?? "none");
        await WalRepositoryFiles.MoveAsideAsync(WalDirectory, plan.MoveAside, logger, ct).ConfigureAwait(false);
        if (plan.ResumeMarker is { } marker) await WalRepositoryFiles.CreateEmptyAsync(Path.Combine(WalDirectory, marker), ct).ConfigureAwait(false);
        return source;
    }

    private string ConnInfo(ReplicaEndpoint server) => string.Join(' ',
        InstanceConfig.Pair("host", server.Host),
        InstanceConfig.Pair("port", server.Port.ToString(CultureInfo.InvariantCulture)),
        InstanceConfig.Pair("user", InstanceConfig.ReplicationUser),
        InstanceConfig.Pair("passfile", PassFile),
        InstanceConfig.Pair("application_name", options.ApplicationName),
        InstanceConfig.Pair("connect_timeout", "10"));
}
