using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Anchors;

/// <summary>
/// pg_auto_failover 2.0 (Debian <c>pg-auto-failover-cli</c>, <c>postgresql-15-auto-failover</c>): one monitor and
/// two data nodes, each a <c>pg_autoctl</c> keeper supervising its PostgreSQL 15, run as <c>postgres</c> with its
/// configuration under this run's directory (XDG variables), default timings.
/// </summary>
public sealed class PgAutoFailoverSystem : IAnchorSystem
{
    private const string PgAutoCtl = "/usr/bin/pg_autoctl";
    private readonly string _root;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly int _monitorPort = LoopbackPorts.Free();
    private readonly AgentProcess?[] _keepers = new AgentProcess?[2];
    private AgentProcess? _monitor;
    private readonly long _smallDisk;

    /// <param name="smallDisk">Bytes of a tmpfs of its own for each data node's directory (scenario f), or 0 for the work directory's disk.</param>
    public PgAutoFailoverSystem(string root, IReadOnlyDictionary<string, string> environment, long smallDisk = 0)
    {
        _root = root;
        _smallDisk = smallDisk;
        _environment = new Dictionary<string, string>(environment)
        {
            ["HOME"] = root,
            ["XDG_CONFIG_HOME"] = Path.Combine(root, "config"),
            ["XDG_DATA_HOME"] = Path.Combine(root, "share"),
            ["XDG_RUNTIME_DIR"] = Path.Combine(root, "run"),
            ["PATH"] = $"{PatroniSystem.PostgresBin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            ["PG_CONFIG"] = Path.Combine(PatroniSystem.PostgresBin, "pg_config"),
        };
        Nodes = Enumerable.Range(1, 2).Select(i => new AnchorNode($"n{i}", LoopbackPorts.Free(), Path.Combine(root, $"n{i}", "data"))).ToList();
    }

    public string Name => "pg-auto-failover";
    public string Settings => $"pg_auto_failover 2.0, monitor + 2 data nodes, default timings (health_check_period 5 s, health_check_max_retries 2, health_check_retry_delay 2 s, node_considered_unhealthy_timeout 20 s){SmallDisks.Describe(_smallDisk)}";
    public IReadOnlyList<AnchorNode> Nodes { get; }
    public (string User, string Password) Credentials => ("postgres", "anchors");
    public string? NodeLossUnsupported => null;
    private string MonitorUri => $"postgres://autoctl_node@127.0.0.1:{_monitorPort}/pg_auto_failover?sslmode=disable";

    public async Task StartAsync(TextWriter log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(log);
        foreach (var dir in new[] { "config", "share", "run" }) PatroniSystem.OwnedDirectory(Path.Combine(_root, dir));
        foreach (var node in Nodes)
        {
            if (_smallDisk > 0) SmallDisks.Mount(SmallDisks.DiskOf(node), _smallDisk);
            else PatroniSystem.OwnedDirectory(SmallDisks.DiskOf(node));
        }
        var monitorData = Path.Combine(_root, "monitor");
        await RunAsync(["create", "monitor", "--pgdata", monitorData, "--pgport", $"{_monitorPort}", "--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl"], ct);
        // create monitor has no --listen: keep its PostgreSQL on loopback like everything else here.
        await RunAsync(["config", "set", "--pgdata", monitorData, "postgresql.listen_addresses", "127.0.0.1"], ct);
        _monitor = AgentProcess.Start("monitor", PgAutoCtl, ["run", "--pgdata", monitorData], Path.Combine(_root, "monitor.log"), _environment);
        for (var i = 0; i < Nodes.Count; i++)
        {
            var node = Nodes[i];
            _keepers[i] = AgentProcess.Start(node.Name, PgAutoCtl,
            [
                "create", "postgres", "--pgdata", node.DataDirectory, "--pgport", $"{node.Port}", "--hostname", "127.0.0.1",
                "--listen", "127.0.0.1", "--name", node.Name, "--auth", "trust", "--no-ssl", "--pg-hba-lan", "--monitor", MonitorUri, "--run",
            ], Path.Combine(_root, $"{node.Name}.log"), _environment);
            // One at a time: the first registers as the primary, the next is cloned from it.
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (!await SettledAsync(ct) || await CountAsync(ct) < i + 1)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"pg_auto_failover node {node.Name} did not settle within 3 minutes; see {Path.Combine(_root, node.Name + ".log")}");
                await Task.Delay(500, ct);
            }
        }
        await log.WriteLineAsync($"{Name}: monitor on {_monitorPort}, PostgreSQL on {string.Join(',', Nodes.Select(n => n.Port))}");
    }

    public void KillNode(AnchorNode node)
    {
        var i = Index(node);
        _keepers[i]?.KillTree();
        if (ProcessTree.Postmaster(node.DataDirectory) is { } pm) ProcessTree.Signal(pm, UnixSignals.SigKill);
    }

    public Task RestartNodeAsync(AnchorNode node, CancellationToken ct)
    {
        var i = Index(node);
        _keepers[i] = AgentProcess.Start(node.Name, PgAutoCtl, ["run", "--pgdata", node.DataDirectory], Path.Combine(_root, $"{node.Name}.log"), _environment);
        return Task.CompletedTask;
    }

    public Task<string?> KillConsensusLeaderAsync(CancellationToken ct) => Task.FromResult<string?>(null);

    /// <summary>Nothing to tell it: it does not count crashes (it restarts PostgreSQL, or lets PostgreSQL restart itself).</summary>
    public Task<string?> PrepareCrashLoopTrialsAsync(CancellationToken ct) => Task.FromResult<string?>(null);

    public Task RestartConsensusAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>The monitor's own view: every node reached the state it was assigned, each single, a primary or a secondary.</summary>
    public async Task<bool> SettledAsync(CancellationToken ct) => (await StatesAsync(ct)) is { Count: > 0 } states
        && states.All(s => s.Current == s.Assigned && s.Current is "single" or "primary" or "secondary");

    /// <summary>Each node's reported and assigned state from <c>pg_autoctl show state --json</c> (empty when the monitor does not answer).</summary>
    private async Task<IReadOnlyList<(string Current, string Assigned)>> StatesAsync(CancellationToken ct)
    {
        try
        {
            var (exit, output) = await AgentProcess.RunAsync(PgAutoCtl, ["show", "state", "--json", "--pgdata", Path.Combine(_root, "monitor")], _environment, TimeSpan.FromSeconds(10), ct);
            if (exit != 0) return [];
            var json = output[output.IndexOf('[', StringComparison.Ordinal)..(output.LastIndexOf(']') + 1)];
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            return doc.RootElement.EnumerateArray()
                .Select(n => (n.GetProperty("current_group_state").GetString() ?? "", n.GetProperty("assigned_group_state").GetString() ?? ""))
                .ToList();
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or ArgumentOutOfRangeException or KeyNotFoundException or TimeoutException or InvalidOperationException)
        {
            return [];
        }
    }

    public ValueTask DisposeAsync()
    {
        foreach (var p in _keepers.Append(_monitor)) p?.KillTree();
        foreach (var dir in Nodes.Select(n => n.DataDirectory).Append(Path.Combine(_root, "monitor")))
        {
            if (ProcessTree.Postmaster(dir) is { } pm) ProcessTree.Signal(pm, UnixSignals.SigKill);
        }
        if (_smallDisk > 0) SmallDisks.UnmountUnder(_root);
        return ValueTask.CompletedTask;
    }

    private async Task<int> CountAsync(CancellationToken ct) => (await StatesAsync(ct)).Count;

    private async Task RunAsync(IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var (exit, output) = await AgentProcess.RunAsync(PgAutoCtl, arguments, _environment, TimeSpan.FromMinutes(3), ct);
        await File.AppendAllTextAsync(Path.Combine(_root, "pg_autoctl-commands.log"), $"$ pg_autoctl {string.Join(' ', arguments)}\n{output}\n", ct);
        if (exit != 0) throw new InvalidOperationException($"pg_autoctl {string.Join(' ', arguments.Take(2))} failed ({exit}): {output.Trim().Split('\n').LastOrDefault()}");
    }

    private int Index(AnchorNode node) => Nodes.ToList().IndexOf(node) is var i and >= 0 ? i : throw new ArgumentException($"{node.Name} is not a node of {Name}", nameof(node));
}
