using ControlPlane.Bench.Failover;
using ControlPlane.Bench.Fleet;
using ControlPlane.Client;
using ControlPlane.Protos.V1;

namespace ControlPlane.Bench.Anchors;

/// <summary>
/// Ours, started as the <c>failover</c> benchmark starts it: a Release silo (child process, own data directory), one
/// tier <c>oltp</c> with a primary and two standbys, default HA settings. The writer does not use <c>GetRouting</c>
/// here: it finds the writable node by its ports like the anchors' clients, so the three are measured the same way.
/// </summary>
public sealed class OursSystem : IAnchorSystem
{
    private readonly FileInfo _silo;
    private readonly string _dataDirectory;
    private SiloProcess? _process;
    private ControlPlaneClient? _client;
    private string _password = "";
    private string _settings = "default HA settings";

    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly long _smallDisk;

    /// <param name="smallDisk">Bytes of a tmpfs of its own for each instance's directory (scenario f), or 0 for the work directory's disk.</param>
    public OursSystem(FileInfo silo, string dataDirectory, IReadOnlyDictionary<string, string> environment, long smallDisk = 0)
    {
        _silo = silo;
        _dataDirectory = dataDirectory;
        _smallDisk = smallDisk;
        _environment = new Dictionary<string, string>(environment)
        {
            ["ControlPlane__LocalTiers__0"] = FailoverRun.Tier,
            ["ControlPlane__StandbysPerTier"] = "2",
        };
    }

    public string Name => "ours";
    public string Settings => _settings;
    public IReadOnlyList<AnchorNode> Nodes { get; private set; } = [];
    public (string User, string Password) Credentials => ("postgres", _password);
    public string? NodeLossUnsupported =>
        "one silo manages every instance here; node loss (silo and PostgreSQL of a host together) needs three simulated hosts: §7 (NodeLossTests)";
    public string LogFile => Path.Combine(_dataDirectory, "..", "ours-silo.log");

    public async Task StartAsync(TextWriter log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(log);
        Directory.CreateDirectory(_dataDirectory);
        if (_smallDisk > 0)
        {
            // Mounted before the silo provisions its instances there (names as the local fleet gives them: oltp-1..3).
            foreach (var i in Enumerable.Range(1, 3)) SmallDisks.Mount(Path.Combine(_dataDirectory, "fleet", FailoverRun.Tier, $"{FailoverRun.Tier}-{i}"), _smallDisk);
        }
        _process = SiloProcess.Start(_silo, _dataDirectory, LogFile, _environment);
        var token = await FailoverRun.WaitForTokenAsync(Path.Combine(_dataDirectory, "admin.token"), _process, ct);
        _client = new ControlPlaneClient(_process.GrpcEndpoint, new ControlPlaneClientOptions { Token = token, ConnectTimeout = TimeSpan.FromSeconds(1) });
        _password = (await File.ReadAllTextAsync(Path.Combine(_dataDirectory, "secrets", $"{FailoverRun.Tier}.superuser"), ct)).Trim();
        var tier = await FailoverRun.WaitConvergedAsync(_client, TimeSpan.FromMinutes(5), ct)
            ?? throw new InvalidOperationException($"tier {FailoverRun.Tier} never converged; see {LogFile}");
        Nodes = tier.Replicas.OrderBy(r => r.Name, StringComparer.Ordinal)
            .Select(r => new AnchorNode(r.Name, r.Port, Path.Combine(_dataDirectory, "fleet", FailoverRun.Tier, r.Name, "data"))).ToList();
        var s = await _client.Failover.GetFailoverSettingsAsync(new GetFailoverSettingsRequest { Tier = FailoverRun.Tier }, cancellationToken: ct);
        _settings = $"one silo, tier oltp (primary + 2 standbys), probe_interval {s.ProbeIntervalMs} ms, probe_timeout {s.ProbeTimeoutMs} ms, failure_threshold {s.FailureThreshold}, synchronous_mode {s.SynchronousMode}, crash_loop_count {s.CrashLoopCount} in {s.CrashLoopWindowSeconds} s{SmallDisks.Describe(_smallDisk)}";
        await log.WriteLineAsync($"{Name}: silo at {_process.GrpcEndpoint}, PostgreSQL on {string.Join(',', Nodes.Select(n => n.Port))}; log {LogFile}");
    }

    public void KillNode(AnchorNode node) => throw new NotSupportedException(NodeLossUnsupported);

    public Task RestartNodeAsync(AnchorNode node, CancellationToken ct) => throw new NotSupportedException(NodeLossUnsupported);

    public Task<string?> KillConsensusLeaderAsync(CancellationToken ct) => Task.FromResult<string?>(null);

    public Task RestartConsensusAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>
    /// A standby that crashed <c>crash_loop_count</c> times within <c>crash_loop_window</c> is never promoted, and the
    /// old primary of one trial is a standby in the next: with the default 300 s window, after two trials no standby
    /// would be eligible. A 10 s window (the shortest) forgets a trial's crashes before the next starts and detects
    /// 3 crashes 3 s apart exactly as the default does.
    /// </summary>
    public async Task<string?> PrepareCrashLoopTrialsAsync(CancellationToken ct)
    {
        if (_client is null) return null;
        var current = await _client.Failover.GetFailoverSettingsAsync(new GetFailoverSettingsRequest { Tier = FailoverRun.Tier }, cancellationToken: ct);
        var changed = current.Clone();
        changed.CrashLoopWindowSeconds = 10;
        await _client.Failover.SetFailoverSettingsAsync(new SetFailoverSettingsRequest { Tier = FailoverRun.Tier, Settings = changed }, cancellationToken: ct);
        return $"crash_loop_window_seconds 10 (default {current.CrashLoopWindowSeconds}) for the crash-loop trials, so a standby's crashes in one trial do not make it ineligible in the next";
    }

    /// <summary>The tier as the control plane sees it: healthy, every replica healthy, every standby streaming.</summary>
    public async Task<bool> SettledAsync(CancellationToken ct) =>
        _client is not null && await FailoverRun.WaitConvergedAsync(_client, TimeSpan.FromSeconds(1), ct) is not null;

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        if (_process is not null) await _process.DisposeAsync();
        if (_smallDisk > 0) SmallDisks.UnmountUnder(_dataDirectory);
    }
}
