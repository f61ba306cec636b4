using System.Diagnostics;
using System.Globalization;
using ControlPlane.Postgres.Failover;
using ControlPlane.Postgres.Fleet;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Instances;

/// <summary>
/// Turning an old primary (crashed, fenced, frozen or cleanly stopped) into a streaming standby of the new one:
/// stop it, ensure its slot on the new primary, then the cheapest safe path (<see cref="RejoinPlanner"/>): plain
/// start, pg_rewind, or a fresh base backup when pg_rewind fails.
/// </summary>
public sealed partial class LocalInstanceDriver
{
    /// <summary>Rejoins this instance as a streaming standby of <paramref name="newPrimary"/>; see <see cref="RejoinAsync(ReplicaEndpoint, string, bool, Func{DivergentWal, CancellationToken, Task}, CancellationToken)"/>.</summary>
    public async Task RejoinAsStandbyAsync(ReplicaEndpoint newPrimary, string slotName, CancellationToken ct) =>
        await RejoinAsync(newPrimary, slotName, ct).ConfigureAwait(false);

    /// <summary>
    /// Makes sure the instance is not running (fast stop when it answers, else fenced), marks the rejoin in progress
    /// (<see cref="RejoinPending"/>, cleared once standby.signal is written), ensures the physical slot
    /// <paramref name="slotName"/> on <paramref name="newPrimary"/> (reserving WAL at once), brings the data
    /// directory onto the new primary's history (nothing, pg_rewind, or a base backup), drops the slots it kept
    /// from its primary days, writes standby.signal and the configuration, and starts it. Returns when it
    /// runs; probes tell when it streams. The report says which path was taken.
    /// </summary>
    public Task<RejoinReport> RejoinAsync(ReplicaEndpoint newPrimary, string slotName, CancellationToken ct) =>
        RejoinAsync(newPrimary, slotName, rebuild: false, saved: null, ct);

    /// <param name="rebuild">Take a fresh base backup whatever the control file says: for an instance whose
    /// history cannot be trusted (a promotion was started on it and abandoned, so it may carry a timeline with the
    /// same number as the new primary's but a different past).</param>
    /// <param name="saved">Called with the divergent WAL once it is saved (<see cref="SaveDivergentWalAsync"/>) and
    /// before anything rewinds or replaces it, so the caller can persist the report first; an exception from it stops
    /// the rejoin with the instance untouched.</param>
    public async Task<RejoinReport> RejoinAsync(ReplicaEndpoint newPrimary, string slotName, bool rebuild,
        Func<DivergentWal, CancellationToken, Task>? saved, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(newPrimary);
        ArgumentException.ThrowIfNullOrEmpty(slotName);
        var replicatorFile = options.ReplicatorPasswordFile
            ?? throw new InvalidOperationException($"{Tier}/{Name} has no replicator password file; it cannot be a standby.");
        var watch = Stopwatch.StartNew();
        logger.LogWarning("Rejoining {Tier}/{Replica} as a standby of {Primary} ({Host}:{Port}) through slot {Slot}",
            Tier, Name, newPrimary.Name, newPrimary.Host, newPrimary.Port, slotName);

        await EnsureStoppedForRejoinAsync(ct).ConfigureAwait(false);
        await MarkRejoinAsync(newPrimary, ct).ConfigureAwait(false);
        var slotLost = await SqlFailoverOps.EnsureReservedSlotAsync(newPrimary, slotName, ct).ConfigureAwait(false);
        var source = await SqlFailoverOps.ReadSourceTimelineAsync(newPrimary, ct).ConfigureAwait(false);
        var decision = !IsInitialized
            ? new RejoinDecision(RejoinPath.BaseBackup, $"'{DataDirectory}' holds no cluster")
            : slotLost
                ? new RejoinDecision(RejoinPath.BaseBackup, $"its slot {slotName} on {newPrimary.Name} was lost: the WAL it needs is gone")
            : rebuild
                ? new RejoinDecision(RejoinPath.BaseBackup, "its history cannot be trusted (a promotion on it was abandoned)")
                : RejoinPlanner.Choose(await ReadControlDataAsync(ct).ConfigureAwait(false), source);
        logger.LogWarning("Rejoin of {Tier}/{Replica}: {Path}, because {Reason}", Tier, Name, decision.Path, decision.Reason);

        var (path, reason) = (decision.Path, decision.Reason);
        // The WAL past the fork is the only record of what the new primary never got: saved (and reported) before
        // pg_rewind or a base backup throws it away. A save that fails stops the rejoin; the tier retries it.
        var divergent = IsInitialized && path != RejoinPath.StartAsStandby
            ? await SaveDivergentWalAsync(newPrimary, source, ct).ConfigureAwait(false)
            : null;
        if (divergent is not null && saved is not null) await saved(divergent, ct).ConfigureAwait(false);
        if (path == RejoinPath.Rewind)
        {
            try
            {
                await RewindAsync(newPrimary, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ProcessFailedException or TimeoutException)
            {
                logger.LogError("pg_rewind of {Tier}/{Replica} failed; falling back to a fresh base backup: {Error}", Tier, Name, e.Message);
                (path, reason) = (RejoinPath.BaseBackup, $"pg_rewind failed: {e.Message}");
            }
        }
        // A replica its host never held (a new host, a lost disk): the instance directory comes first.
        if (!IsInitialized) await PrepareDirectoriesAsync(ct).ConfigureAwait(false);
        await WritePassFileAsync(replicatorFile, ct).ConfigureAwait(false);
        if (path == RejoinPath.BaseBackup) await RebuildAsync(newPrimary, slotName, ct).ConfigureAwait(false);

        DropStaleSlots();
        await DropUpstreamOverridesAsync(ct).ConfigureAwait(false);
        DeleteSignalFiles();
        await OsUser.WriteFileAsync(Path.Combine(DataDirectory, "standby.signal"), "", (UnixFileMode)0b110_000_000, forPostgres: true, ct).ConfigureAwait(false);
        // From here on a start is a standby's: the rejoin may be interrupted without the directory looking like a primary.
        ClearRejoinMark();
        SetUpstream(newPrimary, slotName);
        await StartAsync(ct).ConfigureAwait(false);
        logger.LogWarning("Rejoined {Tier}/{Replica} as a standby of {Primary} by {Path} in {Elapsed} ms",
            Tier, Name, newPrimary.Name, path, watch.ElapsedMilliseconds);
        return new RejoinReport(path, reason, watch.Elapsed, divergent);
    }

    private async Task EnsureStoppedForRejoinAsync(CancellationToken ct)
    {
        if (await IsRunningAsync(ct).ConfigureAwait(false) && !IsFrozen())
        {
            try
            {
                logger.LogWarning("Stopping {Tier}/{Replica} before it rejoins (fast shutdown)", Tier, Name);
                await RunPgAsync("pg_ctl", ["stop", "-D", DataDirectory, "-m", "fast", "-w", "-t", "15", "-s"], TimeSpan.FromSeconds(25), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is ProcessFailedException or TimeoutException)
            {
                logger.LogWarning("{Tier}/{Replica} did not stop cleanly ({Error}); fencing it", Tier, Name, e.Message);
            }
        }
        // Frozen, crashed with orphans still exiting, or a stop that timed out: nothing of it may run on.
        await FenceAsync(ct).ConfigureAwait(false);
        // A killed postmaster that nobody reaps stays a zombie, and a zombie pid in postmaster.pid makes
        // postgres (also pg_rewind's single-user recovery) refuse to start.
        RemoveStalePidFile();
    }

    private async Task RewindAsync(ReplicaEndpoint source, CancellationToken ct)
    {
        // pg_rewind runs single-user crash recovery on an uncleanly stopped target (PG13+); that refuses standby mode.
        DeleteSignalFiles();
        var passFile = Path.Combine(InstanceDirectory, "rewind.pgpass");
        await SecretFile.WriteForPostgresAsync(passFile, SecretFile.PgPassLine(source.User, SecretFile.Read(source.PasswordFile)), ct).ConfigureAwait(false);
        try
        {
            var conninfo = string.Join(' ',
                InstanceConfig.Pair("host", source.Host),
                InstanceConfig.Pair("port", source.Port.ToString(CultureInfo.InvariantCulture)),
                InstanceConfig.Pair("user", source.User),
                InstanceConfig.Pair("dbname", source.Database),
                InstanceConfig.Pair("passfile", passFile));
            var watch = Stopwatch.StartNew();
            if (await SqlFailoverOps.EnsureCheckpointOnCurrentTimelineAsync(source, ct).ConfigureAwait(false))
            {
                logger.LogInformation("Checkpointed {Primary} so its control file shows its new timeline ({Elapsed} ms)", source.Name, watch.ElapsedMilliseconds);
            }
            logger.LogWarning("pg_rewind of {Tier}/{Replica} to {Primary}", Tier, Name, source.Name);
            var result = await RunPgAsync("pg_rewind", [$"--target-pgdata={DataDirectory}", $"--source-server={conninfo}"],
                TimeSpan.FromMinutes(10), ct).ConfigureAwait(false);
            var said = (result.StandardError + result.StandardOutput).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            logger.LogWarning("pg_rewind of {Tier}/{Replica} finished in {Elapsed} ms: {Output}", Tier, Name, watch.ElapsedMilliseconds, string.Join(" | ", said));
        }
        finally
        {
            File.Delete(passFile);
        }
    }

    /// <summary>Replaces the data directory by a base backup of <paramref name="primary"/>; the old one is kept aside until it succeeds.</summary>
    private async Task RebuildAsync(ReplicaEndpoint primary, string slotName, CancellationToken ct)
    {
        var aside = $"{DataDirectory}.failed-{DateTime.UtcNow:yyyyMMddHHmmss}";
        if (Directory.Exists(DataDirectory))
        {
            logger.LogWarning("Moving the data directory of {Tier}/{Replica} aside to {Aside}", Tier, Name, aside);
            Directory.Move(DataDirectory, aside);
        }
        try
        {
            await BaseBackupAsync(primary, slotName, ct).ConfigureAwait(false);
        }
        catch
        {
            if (Directory.Exists(DataDirectory)) Directory.Delete(DataDirectory, recursive: true);
            if (Directory.Exists(aside)) Directory.Move(aside, DataDirectory);
            throw;
        }
        if (Directory.Exists(aside)) Directory.Delete(aside, recursive: true);
    }

    /// <summary>A streamed base backup of <paramref name="primary"/> into the (absent) data directory, through the slot.</summary>
    private async Task BaseBackupAsync(ReplicaEndpoint primary, string slotName, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        logger.LogInformation("Base backup of {Tier}/{Primary} into {Replica} through slot {Slot}", Tier, primary.Name, Name, slotName);
        await RunPgAsync("pg_basebackup",
            ["-h", primary.Host, "-p", primary.Port.ToString(CultureInfo.InvariantCulture), "-U", InstanceConfig.ReplicationUser,
             "-D", DataDirectory, "-X", "stream", "-S", slotName, "-c", "fast", "-w", "--no-password"],
            TimeSpan.FromMinutes(10), ct,
            new Dictionary<string, string> { ["PGPASSFILE"] = ReplicationPassFile }).ConfigureAwait(false);
        logger.LogInformation("Base backup of {Tier}/{Primary} into {Replica} took {Elapsed} ms", Tier, primary.Name, Name, watch.ElapsedMilliseconds);
    }

    /// <summary>A standby keeps no slots: the ones of its primary days would hold its WAL back forever.</summary>
    private void DropStaleSlots()
    {
        var slots = Path.Combine(DataDirectory, "pg_replslot");
        if (!Directory.Exists(slots)) return;
        foreach (var slot in Directory.GetDirectories(slots))
        {
            logger.LogInformation("Dropping stale replication slot {Slot} of {Tier}/{Replica}", Path.GetFileName(slot), Tier, Name);
            Directory.Delete(slot, recursive: true);
        }
    }

    /// <summary>The upstream a rejoin writes must be the one the standby uses: an ALTER SYSTEM override of it goes.</summary>
    private async Task DropUpstreamOverridesAsync(CancellationToken ct)
    {
        var autoConf = Path.Combine(DataDirectory, "postgresql.auto.conf");
        if (!File.Exists(autoConf)) return;
        var (text, changed) = InstanceConfig.WithoutUpstreamOverrides(await File.ReadAllTextAsync(autoConf, ct).ConfigureAwait(false));
        if (!changed) return;
        logger.LogWarning("Removing primary_conninfo/primary_slot_name set by ALTER SYSTEM in {Tier}/{Replica}: they outrank the upstream the control plane writes", Tier, Name);
        await OsUser.WriteFileAsync(autoConf, text, (UnixFileMode)0b110_000_000, forPostgres: true, ct).ConfigureAwait(false);
    }

    private void DeleteSignalFiles()
    {
        File.Delete(Path.Combine(DataDirectory, "standby.signal"));
        File.Delete(Path.Combine(DataDirectory, "recovery.signal"));
    }
}
