using System.Globalization;
using ControlPlane.Postgres.Fleet;
using Microsoft.Extensions.Logging;

namespace ControlPlane.Postgres.Instances;

/// <summary>
/// What a replica grain may do to an instance on this host: initdb, base backup, start, stop, kill, promote; the
/// failover operations (fence, clean stop, rejoin, repoint) live in the partial files under Failover/.
/// Every PostgreSQL binary runs as the postgres user when the control plane is root (see <see cref="OsUser"/>).
/// The driver owns <c>controlplane.conf</c> and rewrites it before every start from its current port and
/// upstream, so a restart always reflects the current topology.
/// </summary>
public sealed partial class LocalInstanceDriver(LocalInstanceOptions options, ILogger logger, PgBinaries? binaries = null)
{
    private readonly PgBinaries _bin = binaries ?? PgBinaries.Shared;
    private ReplicaEndpoint? _upstream;
    private string? _slotName;
    private bool _portMayMove;

    public string Tier => options.Tier;
    public string Name => options.Name;
    public string DataDirectory { get; } = Path.GetFullPath(options.DataDirectory);
    public string InstanceDirectory => Path.GetDirectoryName(DataDirectory)!;
    public string LogFile => Path.Combine(InstanceDirectory, "postgres.log");
    public string ReplicationPassFile => Path.Combine(InstanceDirectory, "replication.pgpass");
    public int Port { get; private set; } = options.Port;

    /// <summary>The address it listens on: the host's.</summary>
    public string Host => options.ListenAddress;

    /// <summary>The primary this standby streams from, when known.</summary>
    public ReplicaEndpoint? Upstream => _upstream;

    public bool IsInitialized => File.Exists(Path.Combine(DataDirectory, "PG_VERSION"));
    public bool IsStandby => File.Exists(Path.Combine(DataDirectory, "standby.signal"));

    /// <summary>How the control plane connects: database and user <c>postgres</c>, password from the superuser file.</summary>
    public ReplicaEndpoint Endpoint =>
        new(Tier, Name, Host, Port, "postgres", "postgres", options.SuperuserPasswordFile, DataDirectory);

    /// <summary>Takes effect at the next start.</summary>
    public void SetPort(int port)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        Port = port;
    }

    /// <summary>Points this standby at <paramref name="primary"/>, through <paramref name="slotName"/> (null: no slot); takes effect at the next start.</summary>
    public void SetUpstream(ReplicaEndpoint primary, string? slotName)
    {
        _upstream = primary;
        _slotName = slotName;
    }

    /// <summary>
    /// Settles the port for this run: the running postmaster's port when it already runs (left alone),
    /// else <paramref name="remembered"/> when still free, else a new free one (config is rewritten at start).
    /// </summary>
    public async Task<int> AdoptPortAsync(int? remembered, CancellationToken ct)
    {
        if (await IsRunningAsync(ct).ConfigureAwait(false) && RunningPort() is { } running)
        {
            Port = running;
            return Port;
        }
        Port = FreePort.ReuseOrPick(remembered);
        _portMayMove = true;
        if (remembered is { } r && r != Port)
        {
            logger.LogWarning("Port {Remembered} of {Tier}/{Replica} is taken; moving to {Port}", r, Tier, Name, Port);
        }
        return Port;
    }

    /// <summary>Creates the physical replication slot <paramref name="slotName"/> on this running instance unless it exists.</summary>
    public async Task EnsureSlotAsync(string slotName, CancellationToken ct)
    {
        await using var connection = await AdminSql.OpenAsync(Endpoint, ct).ConfigureAwait(false);
        await AdminSql.ScalarAsync(connection, AdminSql.CreatePhysicalSlot, ct, slotName).ConfigureAwait(false);
    }

    /// <summary>initdb a new primary, configure it, start it and create the replicator role. Leaves it running.</summary>
    public async Task InitPrimaryAsync(CancellationToken ct)
    {
        await PrepareDirectoriesAsync(ct).ConfigureAwait(false);
        var pwfile = Path.Combine(InstanceDirectory, $".initdb-pw-{Guid.NewGuid():N}");
        try
        {
            await SecretFile.WriteForPostgresAsync(pwfile, SecretFile.Read(options.SuperuserPasswordFile) + "\n", ct).ConfigureAwait(false);
            logger.LogInformation("Initialising {Tier}/{Replica} in {DataDirectory}", Tier, Name, DataDirectory);
            await RunPgAsync("initdb",
                ["-D", DataDirectory, "-U", "postgres", $"--pwfile={pwfile}", "--auth-host=scram-sha-256",
                 "--auth-local=scram-sha-256", "--data-checksums", "--encoding=UTF8", "--locale=C", "--no-instructions"],
                TimeSpan.FromMinutes(3), ct).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(pwfile);
        }
        // pg_hba.conf and the TLS certificate are written at start (WriteConfigAsync).
        await AppendIncludeAsync(ct).ConfigureAwait(false);
        _upstream = null;
        await StartAsync(ct).ConfigureAwait(false);
        if (options.ReplicatorPasswordFile is not null) await EnsureReplicatorRoleAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates this instance as a standby of the running <paramref name="primary"/>: a physical slot there
    /// (idempotent), a streamed base backup, <c>standby.signal</c>. Leaves it running.
    /// </summary>
    public async Task CreateStandbyAsync(ReplicaEndpoint primary, string slotName, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(primary);
        var replicatorFile = options.ReplicatorPasswordFile
            ?? throw new InvalidOperationException($"{Tier}/{Name} has no replicator password file; it cannot be a standby.");
        await PrepareDirectoriesAsync(ct).ConfigureAwait(false);
        await WritePassFileAsync(replicatorFile, ct).ConfigureAwait(false);

        await using (var connection = await AdminSql.OpenAsync(primary, ct).ConfigureAwait(false))
        {
            await AdminSql.ScalarAsync(connection, AdminSql.CreatePhysicalSlot, ct, slotName).ConfigureAwait(false);
        }
        await BaseBackupAsync(primary, slotName, ct).ConfigureAwait(false);
        await OsUser.WriteFileAsync(Path.Combine(DataDirectory, "standby.signal"), "", (UnixFileMode)0b110_000_000, forPostgres: true, ct).ConfigureAwait(false);
        SetUpstream(primary, slotName);
        await StartAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Starts the instance unless it already runs (then it is left alone, config included).</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        if (await IsRunningAsync(ct).ConfigureAwait(false))
        {
            logger.LogInformation("{Tier}/{Replica} is already running on port {Port}", Tier, Name, RunningPort() ?? Port);
            return;
        }
        ThrowIfRejoinInterrupted();
        RemoveStalePidFile();
        await OsUser.EnsureAncestorsTraversableAsync(DataDirectory, logger, ct).ConfigureAwait(false);
        await WriteConfigAsync(ct).ConfigureAwait(false);
        logger.LogInformation("Starting {Tier}/{Replica} on port {Port} ({Role})", Tier, Name, Port, IsStandby ? "standby" : "primary");
        var seconds = ((int)options.StartTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        for (var attempt = 1; ; attempt++)
        {
            var result = await ProcessRunner.RunAsync(
                PgSpec("pg_ctl", ["start", "-D", DataDirectory, "-l", LogFile, "-w", "-t", seconds, "-s"], options.StartTimeout + TimeSpan.FromSeconds(15)),
                ct).ConfigureAwait(false);
            if (result.Succeeded)
            {
                _portMayMove = false;
                return;
            }
            var log = LogTail();
            // A port found free at provisioning can be taken before the server binds it (any process's outgoing
            // connection may get it as its ephemeral port). Only while the port is still being settled: once an
            // instance served, its endpoint is known to the tier and moving it would strand its clients.
            if (attempt < 5 && _portMayMove && log.Contains("Address already in use", StringComparison.Ordinal))
            {
                var taken = Port;
                Port = FreePort.Pick();
                logger.LogWarning("Port {Taken} of {Tier}/{Replica} was taken before the server bound it; moving to {Port}", taken, Tier, Name, Port);
                await WriteConfigAsync(ct).ConfigureAwait(false);
                continue;
            }
            // After a SIGKILLed postmaster its orphaned children hold the shared memory block for a moment.
            if (attempt < 5 && log.Contains("pre-existing shared memory block", StringComparison.Ordinal))
            {
                logger.LogInformation("{Tier}/{Replica}: orphans of the previous postmaster still hold shared memory; retrying start", Tier, Name);
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
                continue;
            }
            throw new ProcessFailedException(
                $"{Tier}/{Name} did not start (pg_ctl exit {result.ExitCode}): {result.StandardError.Trim()} Server log '{LogFile}' ends with:\n{log}");
        }
    }

    /// <summary>The last lines of the server log, for error messages (the log never holds passwords: none are sent as SQL).</summary>
    public string LogTail(int lines = 15)
    {
        try
        {
            return File.Exists(LogFile) ? string.Join('\n', File.ReadLines(LogFile).TakeLast(lines)) : "(no log file)";
        }
        catch (IOException e) { return $"(log unreadable: {e.Message})"; }
        catch (UnauthorizedAccessException e) { return $"(log unreadable: {e.Message})"; }
    }

    public async Task StopAsync(StopMode mode, CancellationToken ct)
    {
        if (!await IsRunningAsync(ct).ConfigureAwait(false)) return;
        logger.LogInformation("Stopping {Tier}/{Replica} ({Mode})", Tier, Name, mode);
        await RunPgAsync("pg_ctl", ["stop", "-D", DataDirectory, "-m", mode == StopMode.Fast ? "fast" : "immediate", "-w", "-t", "60", "-s"],
            TimeSpan.FromSeconds(75), ct).ConfigureAwait(false);
    }

    /// <summary>pg_ctl status, cross-checked with /proc so a recycled pid in a stale postmaster.pid is not taken for a server.</summary>
    public async Task<bool> IsRunningAsync(CancellationToken ct)
    {
        if (!File.Exists(Path.Combine(DataDirectory, "postmaster.pid"))) return false;
        var status = await ProcessRunner.RunAsync(PgSpec("pg_ctl", ["status", "-D", DataDirectory], TimeSpan.FromSeconds(15)), ct).ConfigureAwait(false);
        return status.Succeeded && PidIsPostgres();
    }

    /// <summary>
    /// Cheap liveness, no child process: postmaster.pid names a live postgres process. A stopped (SIGSTOP) postmaster
    /// exists; a killed one (gone, or a zombie nobody reaped) does not.
    /// </summary>
    public bool PostmasterExists() => File.Exists(Path.Combine(DataDirectory, "postmaster.pid")) && PidIsPostgres();

    /// <summary>The postmaster's pid from postmaster.pid, or null.</summary>
    public int? PostmasterPid() => PidFileLine(0);

    /// <summary>The port the running postmaster listens on, from postmaster.pid.</summary>
    public int? RunningPort() => PidFileLine(3);

    public async Task KillAsync(InstanceSignal signal, CancellationToken ct)
    {
        var pid = PostmasterPid() ?? throw new InvalidOperationException($"{Tier}/{Name} has no postmaster.pid in '{DataDirectory}'.");
        var name = signal switch { InstanceSignal.Kill => "KILL", InstanceSignal.Stop => "STOP", _ => "CONT" };
        logger.LogWarning("Sending SIG{Signal} to {Tier}/{Replica} postmaster {Pid}", name, Tier, Name, pid);
        await ProcessRunner.RunCheckedAsync(new ProcessSpec("kill", ["-s", name, pid.ToString(CultureInfo.InvariantCulture)]) { Timeout = TimeSpan.FromSeconds(10) }, ct).ConfigureAwait(false);
    }

    /// <summary>Promotes this standby and waits until it accepts writes; it forgets its upstream.</summary>
    public async Task PromoteAsync(CancellationToken ct)
    {
        logger.LogWarning("Promoting {Tier}/{Replica}", Tier, Name);
        await RunPgAsync("pg_ctl", ["promote", "-D", DataDirectory, "-w", "-t", "60", "-s"], TimeSpan.FromSeconds(75), ct).ConfigureAwait(false);
        _upstream = null;
        _slotName = null;
    }

    /// <summary>
    /// Rewrites controlplane.conf from the current port and upstream (a running server reads it on reload or restart),
    /// and the files the hardened settings rely on: pg_hba.conf (hostssl lines only) and the TLS certificate when
    /// missing. Rewriting them here, not only at initdb, brings a data directory from an older release, a base backup
    /// or a restore up to the hardened configuration at its next start.
    /// </summary>
    public async Task WriteConfigAsync(CancellationToken ct)
    {
        if (await InstanceCertificate.EnsureAsync(DataDirectory, $"controlplane-{Tier}-{Name}", options.ListenAddress, ct).ConfigureAwait(false))
            logger.LogInformation("Wrote a self-signed TLS certificate for {Tier}/{Replica}", Tier, Name);
        await OsUser.WriteFileAsync(Path.Combine(DataDirectory, "pg_hba.conf"), InstanceConfig.RenderHba(options.PeerNetworks), (UnixFileMode)0b110_000_000, forPostgres: true, ct).ConfigureAwait(false);
        UpstreamTarget? upstream = null;
        if (IsStandby && _upstream is not null)
        {
            if (options.ReplicatorPasswordFile is not null) await WritePassFileAsync(options.ReplicatorPasswordFile, ct).ConfigureAwait(false);
            upstream = new UpstreamTarget(_upstream.Host, _upstream.Port, _slotName, Name, ReplicationPassFile);
        }
        else if (IsStandby)
        {
            logger.LogWarning("{Tier}/{Replica} is a standby with no known upstream; it will start without primary_conninfo", Tier, Name);
        }
        await OsUser.WriteFileAsync(Path.Combine(DataDirectory, InstanceConfig.FileName), InstanceConfig.Render(Port, upstream, [.. Monitoring.StatementsPreload.Settings(_bin), .. options.ExtraSettings], options.ListenAddress),
            (UnixFileMode)0b110_000_000, forPostgres: true, ct).ConfigureAwait(false);
    }

    /// <summary>Creates or updates the <c>replicator</c> role on this running primary from its password file (idempotent).</summary>
    public async Task EnsureReplicatorRoleAsync(CancellationToken ct)
    {
        var verifier = SecretFile.ScramSha256Verifier(SecretFile.Read(options.ReplicatorPasswordFile
            ?? throw new InvalidOperationException($"{Tier}/{Name} has no replicator password file.")));
        await using var connection = await AdminSql.OpenAsync(Endpoint, ct).ConfigureAwait(false);
        var exists = (bool)(await AdminSql.ScalarAsync(connection, AdminSql.RoleExists, ct, InstanceConfig.ReplicationUser).ConfigureAwait(false))!;
        await AdminSql.ExecuteFormattedAsync(connection, exists ? AdminSql.AlterReplicationRole : AdminSql.CreateReplicationRole,
            ct, InstanceConfig.ReplicationUser, verifier).ConfigureAwait(false);
    }

    private Task WritePassFileAsync(string replicatorFile, CancellationToken ct) =>
        SecretFile.WriteForPostgresAsync(ReplicationPassFile,
            SecretFile.PgPassLine(InstanceConfig.ReplicationUser, SecretFile.Read(replicatorFile)), ct);

    private async Task PrepareDirectoriesAsync(CancellationToken ct)
    {
        if (Directory.Exists(DataDirectory))
        {
            if (IsInitialized) throw new InvalidOperationException($"'{DataDirectory}' already holds a cluster; refusing to overwrite {Tier}/{Name}.");
            // A half-finished initdb or base backup: start over.
            Directory.Delete(DataDirectory, recursive: true);
        }
        Directory.CreateDirectory(InstanceDirectory);
        UnixFile.SetMode(InstanceDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await OsUser.GiveToPostgresAsync(InstanceDirectory, recursive: true, ct).ConfigureAwait(false);
        await OsUser.EnsureAncestorsTraversableAsync(DataDirectory, logger, ct).ConfigureAwait(false);
    }

    /// <summary>Makes postgresql.conf include controlplane.conf (idempotent).</summary>
    internal async Task AppendIncludeAsync(CancellationToken ct)
    {
        var conf = Path.Combine(DataDirectory, "postgresql.conf");
        var text = await File.ReadAllTextAsync(conf, ct).ConfigureAwait(false);
        if (text.Contains(InstanceConfig.IncludeLine, StringComparison.Ordinal)) return;
        await File.AppendAllTextAsync(conf, $"\n# Control plane settings, regenerated before every start.\n{InstanceConfig.IncludeLine}\n", ct).ConfigureAwait(false);
    }

    private void RemoveStalePidFile()
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile)) return;
        // Not running by our check: either a dead pid (postgres copes) or a recycled one (postgres refuses). Remove both.
        logger.LogWarning("Removing stale postmaster.pid of {Tier}/{Replica} (pid {Pid} is not a running postmaster)", Tier, Name, PostmasterPid());
        File.Delete(pidFile);
    }

    private bool PidIsPostgres()
    {
        if (PostmasterPid() is not { } pid) return false;
        var comm = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/comm";
        if (!Directory.Exists("/proc/self")) return true;
        try
        {
            var name = File.ReadAllText(comm).Trim();
            // A killed postmaster whose parent (often pid 1 in a container) does not reap it stays a zombie.
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            var state = stat.LastIndexOf(')') is var close and > 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
            return name is "postgres" or "postmaster" && state is not ('Z' or 'X');
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return true; }
    }

    private int? PidFileLine(int index)
    {
        try
        {
            var lines = File.ReadAllLines(Path.Combine(DataDirectory, "postmaster.pid"));
            return lines.Length > index && int.TryParse(lines[index].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
        }
        catch (IOException) { return null; }
    }

    private ProcessSpec PgSpec(string tool, IReadOnlyList<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? env = null) =>
        new(_bin.Tool(tool), args) { AsPostgres = true, Timeout = timeout, Environment = env };

    private Task<ProcessResult> RunPgAsync(string tool, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken ct, IReadOnlyDictionary<string, string>? env = null) =>
        ProcessRunner.RunCheckedAsync(PgSpec(tool, args, timeout, env), ct);
}
