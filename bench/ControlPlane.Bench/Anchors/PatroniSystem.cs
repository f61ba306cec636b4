using System.Globalization;
using System.Text.Json;
using ControlPlane.Bench.Common;

namespace ControlPlane.Bench.Anchors;

/// <summary>
/// Patroni 3 on three loopback "hosts": three etcd members (Raft) and three Patroni agents, each managing one
/// PostgreSQL 15 under <c>/usr/lib/postgresql/15/bin</c>, run as <c>postgres</c> from a directory of its own.
/// </summary>
public sealed class PatroniSystem : IAnchorSystem
{
    public const string PostgresBin = "/usr/lib/postgresql/15/bin";
    private readonly string _root;
    private readonly PatroniProfile _profile;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly int[] _etcdClient = [LoopbackPorts.Free(), LoopbackPorts.Free(), LoopbackPorts.Free()];
    private readonly int[] _etcdPeer = [LoopbackPorts.Free(), LoopbackPorts.Free(), LoopbackPorts.Free()];
    private readonly int[] _rest = [LoopbackPorts.Free(), LoopbackPorts.Free(), LoopbackPorts.Free()];
    private readonly AgentProcess?[] _etcd = new AgentProcess?[3];
    private readonly AgentProcess?[] _patroni = new AgentProcess?[3];
    private readonly List<int> _killedEtcd = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly long _smallDisk;

    /// <param name="smallDisk">Bytes of a tmpfs of its own for each node's data directory (scenario f), or 0 for the work directory's disk.</param>
    public PatroniSystem(string root, PatroniProfile profile, IReadOnlyDictionary<string, string> environment, long smallDisk = 0)
    {
        _root = root;
        _profile = profile;
        _smallDisk = smallDisk;
        _environment = new Dictionary<string, string>(environment) { ["HOME"] = root };
        Nodes = Enumerable.Range(1, 3).Select(i => new AnchorNode($"p{i}", LoopbackPorts.Free(), Path.Combine(root, $"p{i}", "disk", "data"))).ToList();
    }

    public string Name => _profile.Name;
    public string Settings => $"Patroni 3.0.2 + etcd 3.4 (3 members), {_profile.Describe()}, master_start_timeout 300 s (default), asynchronous{SmallDisks.Describe(_smallDisk)}";
    public IReadOnlyList<AnchorNode> Nodes { get; }
    public (string User, string Password) Credentials => ("postgres", "anchors");
    public string? NodeLossUnsupported => null;

    public async Task StartAsync(TextWriter log, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(log);
        for (var i = 0; i < 3; i++)
        {
            OwnedDirectory(Path.Combine(_root, $"etcd{i + 1}"));
            var node = OwnedDirectory(Path.Combine(_root, $"p{i + 1}"));
            if (_smallDisk > 0) SmallDisks.Mount(SmallDisks.DiskOf(Nodes[i]), _smallDisk);
            else OwnedDirectory(SmallDisks.DiskOf(Nodes[i]));
            await File.WriteAllTextAsync(Path.Combine(node, "patroni.yml"), Yaml(i), ct);
        }
        for (var i = 0; i < 3; i++) StartEtcd(i);
        // The first agent bootstraps the cluster alone, so the others join it instead of racing for the initialize key.
        StartPatroni(0);
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (!await IsPrimaryAsync(0, ct))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Patroni p1 did not become the leader within 2 minutes; see {Path.Combine(_root, "p1", "patroni.log")}");
            await Task.Delay(500, ct);
        }
        StartPatroni(1);
        StartPatroni(2);
        await log.WriteLineAsync($"{Name}: etcd on {string.Join(',', _etcdClient)}, Patroni REST on {string.Join(',', _rest)}, PostgreSQL on {string.Join(',', Nodes.Select(n => n.Port))}");
    }

    public void KillNode(AnchorNode node)
    {
        var i = Index(node);
        _patroni[i]?.KillTree();
        // PostgreSQL is Patroni's child, so the tree held it; a postmaster that outlived an earlier agent is killed too.
        if (ProcessTree.Postmaster(node.DataDirectory) is { } pm) ProcessTree.Signal(pm, UnixSignals.SigKill);
    }

    public Task RestartNodeAsync(AnchorNode node, CancellationToken ct)
    {
        StartPatroni(Index(node));
        return Task.CompletedTask;
    }

    public async Task<string?> KillConsensusLeaderAsync(CancellationToken ct)
    {
        for (var i = 0; i < 3; i++)
        {
            try
            {
                var metrics = await _http.GetStringAsync(new Uri($"http://127.0.0.1:{_etcdClient[i]}/metrics"), ct);
                if (metrics.Split('\n').Any(l => l.Trim() == "etcd_server_is_leader 1"))
                {
                    _etcd[i]?.KillTree();
                    _killedEtcd.Add(i);
                    return $"etcd{i + 1}";
                }
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
        }
        return null;
    }

    /// <summary>Nothing to tell it: it does not count crashes (it restarts PostgreSQL, or lets PostgreSQL restart itself).</summary>
    public Task<string?> PrepareCrashLoopTrialsAsync(CancellationToken ct) => Task.FromResult<string?>(null);

    public Task RestartConsensusAsync(CancellationToken ct)
    {
        foreach (var i in _killedEtcd) StartEtcd(i);
        _killedEtcd.Clear();
        return Task.CompletedTask;
    }

    /// <summary>Patroni's <c>/cluster</c>: three members, all <c>running</c>, one leader.</summary>
    public async Task<bool> SettledAsync(CancellationToken ct)
    {
        for (var i = 0; i < 3; i++)
        {
            try
            {
                using var doc = JsonDocument.Parse(await _http.GetStringAsync(new Uri($"http://127.0.0.1:{_rest[i]}/cluster"), ct));
                var members = doc.RootElement.GetProperty("members").EnumerateArray().ToList();
                return members.Count == 3
                    && members.All(m => m.GetProperty("state").GetString() is "running" or "streaming")
                    && members.Count(m => m.GetProperty("role").GetString() == "leader") == 1;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException) { }
        }
        return false;
    }

    public ValueTask DisposeAsync()
    {
        foreach (var p in _patroni.Concat(_etcd)) p?.KillTree();
        foreach (var node in Nodes)
        {
            if (ProcessTree.Postmaster(node.DataDirectory) is { } pm) ProcessTree.Signal(pm, UnixSignals.SigKill);
        }
        if (_smallDisk > 0) SmallDisks.UnmountUnder(_root);
        _http.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<bool> IsPrimaryAsync(int i, CancellationToken ct)
    {
        try
        {
            using var response = await _http.GetAsync(new Uri($"http://127.0.0.1:{_rest[i]}/primary"), ct);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException) { return false; }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested) { return false; }
    }

    private void StartEtcd(int i)
    {
        var cluster = string.Join(',', Enumerable.Range(0, 3).Select(j => $"etcd{j + 1}=http://127.0.0.1:{_etcdPeer[j]}"));
        var dir = Path.Combine(_root, $"etcd{i + 1}");
        _etcd[i] = AgentProcess.Start($"etcd{i + 1}", "/usr/bin/etcd",
        [
            "--name", $"etcd{i + 1}", "--data-dir", Path.Combine(dir, "data"),
            "--listen-client-urls", $"http://127.0.0.1:{_etcdClient[i]}", "--advertise-client-urls", $"http://127.0.0.1:{_etcdClient[i]}",
            "--listen-peer-urls", $"http://127.0.0.1:{_etcdPeer[i]}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{_etcdPeer[i]}",
            "--initial-cluster", cluster, "--initial-cluster-state", "new", "--initial-cluster-token", "anchors",
        ], Path.Combine(dir, "etcd.log"), _environment);
    }

    private void StartPatroni(int i)
    {
        var dir = Path.Combine(_root, $"p{i + 1}");
        _patroni[i] = AgentProcess.Start($"p{i + 1}", "/usr/bin/patroni", [Path.Combine(dir, "patroni.yml")], Path.Combine(dir, "patroni.log"), _environment);
    }

    private int Index(AnchorNode node) => Nodes.ToList().IndexOf(node) is var i and >= 0 ? i : throw new ArgumentException($"{node.Name} is not a node of {Name}", nameof(node));

    private string Yaml(int i)
    {
        var node = Nodes[i];
        var dir = Path.Combine(_root, $"p{i + 1}");
        var etcd = string.Join(',', _etcdClient.Select(p => $"127.0.0.1:{p}"));
        return string.Create(CultureInfo.InvariantCulture, $$"""
            scope: anchors
            name: {{node.Name}}
            restapi:
              listen: 127.0.0.1:{{_rest[i]}}
              connect_address: 127.0.0.1:{{_rest[i]}}
            etcd3:
              hosts: "{{etcd}}"
            bootstrap:
              dcs:
                ttl: {{_profile.Ttl}}
                loop_wait: {{_profile.LoopWait}}
                retry_timeout: {{_profile.RetryTimeout}}
                postgresql:
                  use_pg_rewind: true
                  parameters:
                    wal_log_hints: "on"
                    max_connections: 50
              initdb:
                - encoding: UTF8
                - auth: trust
              pg_hba:
                - local all all trust
                - host replication all 127.0.0.1/32 trust
                - host all all 127.0.0.1/32 trust
            postgresql:
              listen: 127.0.0.1:{{node.Port}}
              connect_address: 127.0.0.1:{{node.Port}}
              data_dir: {{node.DataDirectory}}
              bin_dir: {{PostgresBin}}
              pgpass: {{Path.Combine(dir, "pgpass")}}
              authentication:
                replication: {username: postgres, password: anchors}
                superuser: {username: postgres, password: anchors}
                rewind: {username: postgres, password: anchors}
              parameters:
                unix_socket_directories: {{dir}}
            """);
    }

    /// <summary>Creates a directory owned by <c>postgres</c> with mode 0700 (PostgreSQL and etcd refuse looser ones).</summary>
    internal static string OwnedDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("the anchors run on Linux only");
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Chown(path);
        return path;
    }

    internal static void Chown(string path)
    {
        using var p = System.Diagnostics.Process.Start("chown", ["-R", "postgres:postgres", path]);
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"chown postgres {path} failed ({p.ExitCode}); the benchmark must run as root");
    }
}
