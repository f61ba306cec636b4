using System.Diagnostics;
using System.Globalization;
using System.Text;
using Xunit;

namespace ControlPlane.IntegrationTests.Hosts;

/// <summary>
/// Network partitions between simulated hosts, with nftables. On loopback every connection leaves from 127.0.0.1
/// whatever process opens it, so a host is not an address here but a cgroup: each host's silo starts inside its own
/// cgroup (v2), and the PostgreSQL instances it starts inherit it. Packets leaving a host's cgroup are marked with its
/// host number; a partition drops, on arrival, a marked packet whose receiving socket belongs to a host on the other
/// side. Processes outside every host cgroup (the test itself: its writers and checkers) see every host, like an
/// observer on both sides. Rules live in a table of their own, named after the fixture, so other fixtures' traffic
/// (other tests on the same 127.0.0.x addresses) is never touched. Needs root, <c>nft</c> (tests/setup/partitions.sh)
/// and a cgroup2 mount.
/// </summary>
public sealed class NetworkPartition : IDisposable
{
    private const string SysCgroup = "/sys/fs/cgroup";
    private const uint MarkBase = 0x0c9a0000;
    private readonly string _id;
    private readonly string _mount;
    private readonly IReadOnlyList<string> _hosts;
    private bool _active;

    public NetworkPartition(string id, IReadOnlyList<string> hosts)
    {
        _id = id;
        _hosts = hosts;
        _mount = Cgroup2Mount() ?? throw new InvalidOperationException("no cgroup2 mount");
        foreach (var host in hosts) Directory.CreateDirectory(CgroupDirectory(host));
    }

    /// <summary>Why partitions cannot be made on this machine; null when they can.</summary>
    public static string? Unsupported()
    {
        if (!OperatingSystem.IsLinux()) return "network partitions need Linux (nftables)";
        if (Environment.UserName != "root") return "network partitions need root (nftables rules and cgroups); run the tests as root";
        if (!File.Exists("/usr/sbin/nft") && !File.Exists("/sbin/nft")) return "network partitions need nft: run tests/setup/partitions.sh";
        if (Cgroup2Mount() is null) return "network partitions need a cgroup2 mount";
        return null;
    }

    /// <summary>The file a process writes its pid to, to join <paramref name="host"/>'s cgroup.</summary>
    public string ProcsFile(string host) => Path.Combine(CgroupDirectory(host), "cgroup.procs");

    /// <summary>
    /// Cuts <paramref name="host"/> off from every other host, both ways. With <paramref name="openPorts"/>, TCP to
    /// and from those ports still passes (a partition between silos only, the PostgreSQL path left open).
    /// </summary>
    public async Task IsolateAsync(string host, IReadOnlyCollection<int>? openPorts = null)
    {
        var rules = new StringBuilder();
        rules.AppendLine(CultureInfo.InvariantCulture, $"table inet {Table} {{");
        rules.AppendLine("  chain out { type filter hook output priority 0; policy accept;");
        for (var i = 0; i < _hosts.Count; i++)
            rules.AppendLine(CultureInfo.InvariantCulture, $"    socket cgroupv2 level 1 \"{NftPath(_hosts[i])}\" meta mark set 0x{MarkBase + (uint)i + 1:x8}");
        rules.AppendLine("  }");
        rules.AppendLine("  chain in { type filter hook input priority 0; policy accept;");
        var open = openPorts is { Count: > 0 } ? $"tcp dport != {{ {string.Join(", ", openPorts)} }} tcp sport != {{ {string.Join(", ", openPorts)} }} " : "";
        var isolated = IndexOf(host);
        for (var i = 0; i < _hosts.Count; i++)
        {
            if (i == isolated) continue;
            rules.AppendLine(CultureInfo.InvariantCulture, $"    meta mark 0x{MarkBase + (uint)isolated + 1:x8} {open}socket cgroupv2 level 1 \"{NftPath(_hosts[i])}\" drop");
            rules.AppendLine(CultureInfo.InvariantCulture, $"    meta mark 0x{MarkBase + (uint)i + 1:x8} {open}socket cgroupv2 level 1 \"{NftPath(host)}\" drop");
        }
        rules.AppendLine("  }");
        rules.AppendLine("}");
        await NftAsync(["-f", "-"], rules.ToString());
        _active = true;
    }

    /// <summary>Removes every rule of this fixture: the partition heals.</summary>
    public async Task HealAsync()
    {
        if (!_active) return;
        await NftAsync(["delete", "table", "inet", Table], null);
        _active = false;
    }

    /// <summary>Heals, and removes the cgroups once their processes are gone (a leftover process keeps its cgroup).</summary>
    public void Dispose()
    {
        if (_active) HealAsync().GetAwaiter().GetResult();
        foreach (var host in _hosts)
        {
            try { Directory.Delete(CgroupDirectory(host)); }
            catch (IOException) { }
        }
    }

    private string Table => "cp_partition_" + _id;

    private int IndexOf(string host) => _hosts.ToList().IndexOf(host) is var i and >= 0 ? i : throw new ArgumentException($"unknown host {host}", nameof(host));

    private string CgroupDirectory(string host) => Path.Combine(_mount, $"cp-{_id}-{host}");

    /// <summary>nft names a cgroup by its path under /sys/fs/cgroup (a hybrid system mounts cgroup2 at .../unified).</summary>
    private string NftPath(string host) => Path.GetRelativePath(SysCgroup, CgroupDirectory(host));

    private static string? Cgroup2Mount()
    {
        if (!File.Exists("/proc/mounts")) return null;
        return File.ReadAllLines("/proc/mounts").Select(l => l.Split(' ')).Where(f => f.Length > 2 && f[2] == "cgroup2")
            .Select(f => f[1]).FirstOrDefault(m => m.StartsWith(SysCgroup, StringComparison.Ordinal));
    }

    private static async Task NftAsync(IEnumerable<string> args, string? input)
    {
        var start = new ProcessStartInfo("nft") { RedirectStandardInput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start nft");
        if (input is not null) await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"nft {string.Join(' ', args)} failed ({process.ExitCode}): {error}\n{input}");
    }
}

/// <summary>A fact that is skipped, saying why, where network partitions cannot be made (not root, no nft).</summary>
public sealed class PartitionFactAttribute : FactAttribute
{
    public PartitionFactAttribute() => Skip = NetworkPartition.Unsupported();
}
