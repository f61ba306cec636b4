using System.Diagnostics;
using System.Globalization;

namespace ControlPlane.Bench.Anchors;

/// <summary>
/// Scenario (f), a full disk, needs each node's data directory on a filesystem of its own: a tmpfs mounted (as root)
/// at the directory that holds the data directory, before the system creates it, the same way for every system.
/// Filling it is one root-owned file allocated to every free byte; emptying it is deleting that file. Everything
/// the system keeps beside its data directory there (ours: the instance's log and configuration; pg_auto_failover:
/// its base backups) shares the disk, as it would on a host.
/// </summary>
public static class SmallDisks
{
    /// <summary>Size of each node's disk: room for the data, WAL, a rebuild beside the old copy, and the filler.</summary>
    public const long DefaultBytes = 1024L * 1024 * 1024;
    private const string FillerPrefix = "bench-disk-filler";

    /// <summary>The directory a node's disk is mounted at: the one holding its data directory.</summary>
    public static string DiskOf(AnchorNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Path.GetDirectoryName(node.DataDirectory)!;
    }

    /// <summary>Mounts a tmpfs of <paramref name="bytes"/> at <paramref name="directory"/>, owned by <c>postgres</c>, mode 0700.</summary>
    public static void Mount(string directory, long bytes)
    {
        Directory.CreateDirectory(directory);
        var (uid, gid) = (Run("id", "-u", "postgres").Trim(), Run("id", "-g", "postgres").Trim());
        Run("mount", "-t", "tmpfs", "-o", string.Create(CultureInfo.InvariantCulture, $"size={bytes},mode=0700,uid={uid},gid={gid}"), "tmpfs", directory);
    }

    /// <summary>
    /// Allocates every free byte of the filesystem holding <paramref name="directory"/> to filler files; PostgreSQL
    /// may take pages between the reading and the allocation, so it goes round until nothing is left. Returns the
    /// bytes allocated.
    /// </summary>
    public static long Fill(string directory)
    {
        var total = 0L;
        for (var i = 0; i < 8; i++)
        {
            var free = Available(directory);
            if (free < 4096) break;
            var file = Path.Combine(directory, $"{FillerPrefix}-{i}");
            try { Run("fallocate", "-l", free.ToString(CultureInfo.InvariantCulture), file); }
            catch (InvalidOperationException)
            {
                // Taken meanwhile: a smaller one next round.
                if (File.Exists(file)) File.Delete(file);
                Run("fallocate", "-l", Math.Max(4096, free - 1024 * 1024).ToString(CultureInfo.InvariantCulture), file);
            }
            total += new FileInfo(file).Length;
        }
        return total;
    }

    /// <summary>The settings' note: ", each node's data on a tmpfs of N MiB", or nothing.</summary>
    public static string Describe(long bytes) =>
        bytes > 0 ? string.Create(CultureInfo.InvariantCulture, $", each node's data directory on a tmpfs of {bytes / (1024 * 1024)} MiB of its own") : "";

    /// <summary>Deletes the filler files: the disk has room again.</summary>
    public static void Empty(string directory)
    {
        foreach (var file in Directory.EnumerateFiles(directory, FillerPrefix + "-*")) File.Delete(file);
    }

    /// <summary>Free bytes of the filesystem holding <paramref name="directory"/>, as <c>df</c> reports them.</summary>
    public static long Available(string directory)
    {
        var lines = Run("df", "-B1", "--output=avail", directory).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return long.Parse(lines[^1], CultureInfo.InvariantCulture);
    }

    /// <summary>Unmounts (lazily: a process just killed may still hold it) every filesystem mounted under <paramref name="root"/>.</summary>
    public static void UnmountUnder(string root)
    {
        if (!File.Exists("/proc/self/mounts")) return;
        var prefix = Path.GetFullPath(root).TrimEnd('/') + "/";
        var mounted = File.ReadAllLines("/proc/self/mounts")
            .Select(line => line.Split(' '))
            .Where(fields => fields.Length > 1 && fields[1].StartsWith(prefix, StringComparison.Ordinal))
            .Select(fields => fields[1])
            .OrderByDescending(path => path.Length)
            .ToList();
        foreach (var path in mounted)
        {
            try { Run("umount", "-l", path); }
            catch (InvalidOperationException) { }
        }
    }

    private static string Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {stderr.Result.Trim()}");
        return stdout.Result;
    }
}
